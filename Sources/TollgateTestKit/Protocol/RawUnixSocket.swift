import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking Unix stream socket for tests that must send bytes no well-behaved client would:
/// partial frames, oversized headers, garbage. Reads honour a timeout.
public final class RawUnixSocket {
    public let fd: Int32

    public enum Failure: Error { case connect(Int32), io(Int32) }

    public init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.connect(errno) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        precondition(bytes.count < MemoryLayout.size(ofValue: addr.sun_path), "socket path too long")
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw Failure.connect(e)
        }
    }

    deinit { close(fd) }

    /// Writes all of `bytes`; returns false if the peer closed.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }

    /// Half-closes the write side (the peer sees EOF).
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads exactly `count` bytes, or nil on EOF/timeout.
    public func read(count: Int, timeout: Duration) -> [UInt8]? {
        var out: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while out.count < count {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return nil }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(max(1, remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000))
            let r = poll(&pfd, 1, ms)
            if r < 0, errno == EINTR { continue }
            guard r > 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: count - out.count)
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return nil }
            out += buffer[0..<n]
        }
        return out
    }

    /// Reads one frame's payload, or nil on EOF/timeout.
    public func readFrame(timeout: Duration = .seconds(5)) -> [UInt8]? {
        guard let header = read(count: 4, timeout: timeout) else { return nil }
        let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        if length == 0 { return [] }
        return read(count: length, timeout: timeout)
    }

    /// Whether the peer has closed the connection (EOF observed within `timeout`).
    public func isClosedByPeer(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&pfd, 1, 50)
            if r > 0 {
                var byte: UInt8 = 0
                let n = recv(fd, &byte, 1, Int32(MSG_PEEK))
                if n == 0 { return true }
                if n < 0, errno != EINTR, errno != EAGAIN { return true }
                // Data is pending: drain it and keep waiting for EOF.
                _ = recv(fd, &byte, 1, 0)
            }
        }
        return false
    }
}
