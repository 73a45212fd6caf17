import TollgateCore

/// The one error type of the IPC layer: a stable ``code``, a human message (never a secret), and
/// for `rate_limited` the time after which to retry.
public struct IPCError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var code: IPCErrorCode
    public var message: String
    public var retryAfterMs: Int64?
    public var details: JSONValue?

    public init(_ code: IPCErrorCode, _ message: String, retryAfterMs: Int64? = nil, details: JSONValue? = nil) {
        self.code = code
        self.message = Redactor.shared.redact(message)
        self.retryAfterMs = retryAfterMs
        self.details = details
    }

    enum CodingKeys: String, CodingKey {
        case code, message
        case retryAfterMs = "retry_after_ms"
        case details
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
