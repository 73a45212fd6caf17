import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The baseline of `bench ipc`: a plain Unix-socket echo of length-prefixed frames, with blocking
/// syscalls and no parsing — what the kernel and a minimal loop cost. Runs in its own process
/// (`tollgate bench-echo-server`), one thread per connection.
enum EchoServer {
    static func run(path: String) -> Never {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            FileHandle.standardError.write(Data("echo server: cannot listen on \(path): \(String(cString: strerror(errno)))\n".utf8))
            exit(1)
        }
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { continue }
            let thread = Thread { serve(client) }
            thread.start()
        }
    }

    /// Echoes whole reads back: framing is preserved byte for byte, so the client sees its frames.
    private static func serve(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            var off = 0
            while off < n {
                let w = buffer[off..<n].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if w <= 0 { close(fd); return }
                off += w
            }
        }
        close(fd)
    }
}
