#if canImport(Glibc)
    import Glibc
#endif

/// Sends one sd_notify datagram to an explicit `AF_UNIX` path, for a notifier whose socket was
/// injected (tests, tools) instead of read from `NOTIFY_SOCKET` by libsystemd.
///
/// Behaves like libsystemd's sender for the cases we use: `SOCK_DGRAM`, a path or an abstract
/// name written `@name`, no ancillary data, `MSG_NOSIGNAL`.
enum NotifyDatagram {
    /// Sends `text` to `path`; returns an error instead of throwing so callers stay non-fatal.
    static func send(_ text: String, to path: String) -> SystemdError? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        // A filesystem path needs room for its terminating NUL; an abstract name does not.
        guard !bytes.isEmpty, bytes.count + (abstract ? 0 : 1) <= capacity else {
            return SystemdError(.invalidNotifySocket, "notify socket path is empty or longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)!
        let length = socklen_t(pathOffset + bytes.count + (abstract ? 0 : 1))

        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return SystemdError(.notifyFailed, errno: errno, "cannot create a datagram socket") }
        defer { close(fd) }

        let payload = Array(text.utf8)
        while true {
            let sent = payload.withUnsafeBytes { body in
                withUnsafePointer(to: &address) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, body.baseAddress, body.count, Int32(MSG_NOSIGNAL), $0, length)
                    }
                }
            }
            if sent >= 0 {
                return sent == payload.count ? nil : SystemdError(.notifyFailed, errno: EIO, "short write to \(path)")
            }
            if errno == EINTR { continue }
            return SystemdError(.notifyFailed, errno: errno, "cannot send to notify socket \(path)")
        }
    }
}
