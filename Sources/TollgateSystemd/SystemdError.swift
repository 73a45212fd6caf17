#if canImport(Glibc)
    import Glibc
#endif

/// The one error type of TollgateSystemd: a stable code, the errno when a system call failed, and
/// a message meant for an operator. Messages carry paths and fd numbers, never a secret.
public struct SystemdError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable identifiers, safe to match on and to put in logs and metrics.
    public enum Code: String, Sendable, Hashable {
        /// `sd_notify` (or the datagram sender for an injected socket) failed.
        case notifyFailed
        /// The notify socket address cannot be used (too long, empty).
        case invalidNotifySocket
        /// A socket passed by systemd is not of the type the service needs.
        case wrongSocketType
    }

    /// What went wrong, as a stable code.
    public let code: Code
    /// The errno of the failed call, when there was one.
    public let errno: Int32?
    /// A human-readable explanation.
    public let message: String

    /// Creates an error; `errno` is the positive error number, if any.
    public init(_ code: Code, errno: Int32? = nil, _ message: String) {
        self.code = code
        self.errno = errno
        self.message = message
    }

    public var description: String {
        guard let errno else { return "systemd.\(code.rawValue): \(message)" }
        return "systemd.\(code.rawValue): \(message): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
