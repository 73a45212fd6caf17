#if canImport(Glibc)
    import Glibc
#endif

/// A blocking client socket for tests that must put exact bytes on the wire (malformed
/// requests, pipelining, Unix sockets).
final class RawSocket {
    let fd: Int32

    init(fd: Int32) {
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    static func tcp(port: Int) -> RawSocket? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard ok else {
            close(fd)
            return nil
        }
        return RawSocket(fd: fd)
    }

    static func unix(path: String) -> RawSocket? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = UnixAddress(path: path)
        let ok = address.withSockaddr { connect(fd, $0, $1) == 0 }
        guard ok else {
            close(fd)
            return nil
        }
        return RawSocket(fd: fd)
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            sent += n
        }
    }

    /// Reads until the text read so far contains `marker`, the peer closes, or `timeout` passes.
    func read(until marker: String, timeout: Duration = .seconds(5)) async -> String {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !String(decoding: out, as: UTF8.self).contains(marker) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n == 0 { break }
            if n > 0 {
                out.append(contentsOf: buffer[0..<n])
            } else {
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads until the peer closes or nothing arrives for `idle`. Never blocks a thread: the
    /// socket is polled without waiting and the task sleeps in between (tests run on the
    /// cooperative pool, which has only as many threads as cores). Every caller expects the
    /// peer to close, so `idle` is only a backstop: generous, so that a stall on a loaded
    /// machine is not mistaken for the end of the reply.
    func readAll(idle: Duration = .seconds(10)) async -> String {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var lastData = ContinuousClock.now
        while ContinuousClock.now - lastData < idle {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 0) > 0 else {
                try? await Task.sleep(for: .milliseconds(5))
                continue
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard n > 0 else { break }
            out.append(contentsOf: buffer[0..<n])
            lastData = .now
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes, sleeping the task rather
/// than a thread.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A `sockaddr_un` for a path.
struct UnixAddress {
    var storage = sockaddr_un()

    init(path: String) {
        storage.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            precondition(bytes.count < raw.count, "socket path too long")
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
    }

    mutating func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }
}

/// Listening sockets made by hand: an inherited descriptor for `.descriptor`, and a listener
/// whose accept queue is full, so that a new connection attempt hangs in SYN_SENT.
enum TestListener {
    /// A socket bound to 127.0.0.1 on a free port and listening; returns the fd and the port.
    static func bound(backlog: Int32 = 128) -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        precondition(ok, "cannot bind a test listener")
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A listener with backlog 0 that never accepts, with its queue filled by `fillers`
    /// non-blocking connections (closed by the caller through the returned fds).
    static func full() -> (listener: Int32, port: Int, fillers: [Int32]) {
        let (fd, port) = bound(backlog: 0)
        var fillers: [Int32] = []
        for _ in 0..<4 {
            let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            fillers.append(client)
        }
        usleep(100_000)  // let the handshakes that can complete do so
        return (fd, port, fillers)
    }
}
