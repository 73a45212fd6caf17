#if canImport(Glibc)
    import Glibc
#endif

/// The file of a Unix domain socket this server created: removed on exit only if it is still
/// the same file (same device and inode), never someone else's socket that replaced it.
struct UnixSocketFile: Sendable {
    let path: String
    private let device: UInt64
    private let inode: UInt64

    /// Records the socket file just bound at `path`.
    init?(boundAt path: String) {
        guard let info = Self.status(path), info.isSocket else { return nil }
        self.path = path
        self.device = info.device
        self.inode = info.inode
    }

    /// Removes the file if it is still ours.
    func remove() {
        guard let info = Self.status(path), info.device == device, info.inode == inode else { return }
        unlink(path)
    }

    /// Prepares `path` for a bind: a stale socket file (nobody accepts on it) is removed; a live
    /// socket or a file of another type is left alone and reported.
    static func removeStale(at path: String) throws(HTTPServerError) {
        guard let info = status(path) else { return }
        guard info.isSocket else {
            throw HTTPServerError(code: .bindFailed, detail: "\(path) exists and is not a socket")
        }
        guard !isAccepting(path) else {
            throw HTTPServerError(code: .bindFailed, detail: "\(path) is in use by a running server")
        }
        unlink(path)
    }

    private struct Status {
        var device: UInt64
        var inode: UInt64
        var isSocket: Bool
    }

    private static func status(_ path: String) -> Status? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Status(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), isSocket: info.st_mode & S_IFMT == S_IFSOCK)
    }

    /// Whether a server accepts connections on the socket at `path`.
    private static func isAccepting(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }
}
