#if canImport(Glibc)
    import Glibc
#endif

/// Reads a file named by configuration (a config file, a credential, a flow file, a media file)
/// with a size cap, refusing what is not a regular file: a FIFO without a writer must not block
/// the start for ever, `/dev/zero` must not fill the memory.
public enum BoundedFile {
    /// Why a file could not be read; ``description`` is one line for a configuration problem.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case cannotOpen(errno: Int32)
        case notARegularFile
        case tooLarge(limit: Int)
        case readFailed(errno: Int32)

        public var description: String {
            switch self {
            case .cannotOpen(let e): "cannot open it (\(String(cString: strerror(e))))"
            case .notARegularFile: "not a regular file"
            case .tooLarge(let limit): "larger than \(limit) bytes"
            case .readFailed(let e): "cannot read it (\(String(cString: strerror(e))))"
            }
        }
    }

    /// The whole content of `path`, at most `maxBytes`.
    public static func read(_ path: String, maxBytes: Int) -> Result<[UInt8], Failure> {
        let fd = path.withCString { open($0, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY) }
        guard fd >= 0 else { return .failure(.cannotOpen(errno: errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return .failure(.readFailed(errno: errno)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return .failure(.notARegularFile) }
        guard info.st_size <= maxBytes else { return .failure(.tooLarge(limit: maxBytes)) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(info.st_size))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(.readFailed(errno: errno))
            }
            if n == 0 { return .success(bytes) }
            guard bytes.count + n <= maxBytes else { return .failure(.tooLarge(limit: maxBytes)) }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }
}
