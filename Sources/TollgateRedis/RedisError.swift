import TollgateCore

/// Every failure of the Redis client, with a stable ``Code`` to switch on.
///
/// `message` is for humans; it never contains a password (the client never puts one there) and
/// ``description`` is additionally scrubbed by ``Redactor/shared``.
///
/// ```swift
/// do { try await client.send("INCR", "counter") }
/// catch let error where error.code == .serverError && error.serverErrorPrefix == "WRONGTYPE" { ... }
/// ```
public struct RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong. Cases are only ever added, never renamed.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// A connection could not be opened (refused, unreachable, connect timeout, AUTH/SELECT refused).
        case connectionFailed
        /// The connection broke while a command was written or its reply read. The command may or may
        /// not have run on the server: retry only if it is idempotent.
        case connectionLost
        /// No reply within the command timeout. The connection is dropped (hiredis cannot resume
        /// after a read timeout); the command may still have run.
        case timeout
        /// The reply could not be parsed, or hiredis reported a non-I/O failure.
        case protocolError
        /// Redis answered with an error reply; ``RedisError/message`` holds it verbatim
        /// (e.g. `NOSCRIPT No matching script...`, `WRONGTYPE Operation against a key...`).
        case serverError
        /// The client is waiting out its reconnect backoff: the call failed fast without touching the
        /// network. Nothing was sent.
        case unavailable
        /// The client or subscriber was closed. Nothing was sent.
        case closed
        /// A Redis URL could not be parsed. The message names the problem, never the password.
        case invalidURL
    }

    /// The stable category of the failure.
    public let code: Code
    /// A human-readable explanation (for ``Code/serverError``, the server's error reply verbatim).
    public let message: String
    /// Whether trying the same call again later may succeed. For ``Code/connectionLost`` and
    /// ``Code/timeout`` the command may already have run: retry only idempotent commands.
    public let isRetryable: Bool

    /// Creates an error; `isRetryable` defaults to what the code usually means.
    public init(_ code: Code, _ message: String, isRetryable: Bool? = nil) {
        self.code = code
        self.message = message
        self.isRetryable = isRetryable ?? Self.defaultRetryable(code, message: message)
    }

    /// For a ``Code/serverError``, the first word of the reply (`"WRONGTYPE"`, `"NOSCRIPT"`, `"ERR"`).
    public var serverErrorPrefix: String? {
        guard code == .serverError else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    public var description: String {
        Redactor.shared.redact("RedisError.\(code.rawValue): \(message)")
    }

    /// Server errors that clear up by themselves: a server loading its AOF after a restart, a busy
    /// script, a failover in progress.
    static let transientServerErrors: Set<String> = ["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN"]

    private static func defaultRetryable(_ code: Code, message: String) -> Bool {
        switch code {
        case .connectionFailed, .connectionLost, .timeout, .unavailable:
            return true
        case .serverError:
            let prefix = message.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
            return transientServerErrors.contains(prefix)
        case .protocolError, .closed, .invalidURL:
            return false
        }
    }
}
