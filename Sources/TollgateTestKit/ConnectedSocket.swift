import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking client connection for tests: a Unix or TCP stream socket with line-oriented helpers.
/// Closed by ``close()`` or when released.
public final class ConnectedSocket: Sendable {
    /// Why a connection failed.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The connected descriptor (owned by this object).
    public let fd: Int32
    private let isClosed = Mutex(false)

    /// Connects to a Unix stream socket at `path`, retrying until it accepts or `timeout` passes.
    public static func unix(path: String, timeout: Duration = .seconds(5)) throws -> ConnectedSocket {
        try retrying(timeout: timeout, target: path) {
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return (-1, ENAMETOOLONG) }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            return connectSocket(family: AF_UNIX, &address, length: MemoryLayout<sockaddr_un>.size)
        }
    }

    /// Connects to `host:port` over TCP (IPv4), retrying until it accepts or `timeout` passes.
    public static func tcp(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(5)) throws -> ConnectedSocket {
        try retrying(timeout: timeout, target: "\(host):\(port)") {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return (-1, EINVAL) }
            return connectSocket(family: AF_INET, &address, length: MemoryLayout<sockaddr_in>.size)
        }
    }

    private init(fd: Int32) { self.fd = fd }

    /// Writes all of `text`.
    public func send(_ text: String) throws {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "send: \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(n)
        }
    }

    /// Reads until a newline (returned without it), end of stream or `timeout`; `nil` if nothing
    /// arrived.
    public func readLine(timeout: Duration = .seconds(5)) -> String? {
        let deadline = ContinuousClock.now + timeout
        var collected: [UInt8] = []
        var byte: UInt8 = 0
        while ContinuousClock.now < deadline {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 20) > 0 else { continue }
            let n = recv(fd, &byte, 1, 0)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            if byte == UInt8(ascii: "\n") { return String(decoding: collected, as: UTF8.self) }
            collected.append(byte)
        }
        return collected.isEmpty ? nil : String(decoding: collected, as: UTF8.self)
    }

    /// Closes the connection. Idempotent.
    public func close() {
        let wasOpen = isClosed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        if wasOpen { Glibc.close(fd) }
    }

    deinit { close() }

    private static func connectSocket<Address>(family: Int32, _ address: inout Address, length: Int) -> (Int32, Int32) {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return (-1, errno) }
        let ok = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(length)) == 0
            }
        }
        if ok { return (fd, 0) }
        let error = errno
        Glibc.close(fd)
        return (-1, error)
    }

    private static func retrying(timeout: Duration, target: String, _ attempt: () -> (Int32, Int32)) throws -> ConnectedSocket {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (fd, error) = attempt()
            if fd >= 0 { return ConnectedSocket(fd: fd) }
            if ContinuousClock.now >= deadline || !(error == ENOENT || error == ECONNREFUSED || error == EAGAIN) {
                throw Failure(description: "cannot connect to \(target): \(String(cString: strerror(error)))")
            }
            usleep(10_000)
        }
    }
}
