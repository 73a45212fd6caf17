import TollgateCore
import TollgateRedis

/// Every failure of the job store, with a stable ``Code``.
public struct JobStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The job spec breaks a rule (bad id, unknown kind, attempts out of range).
        case invalidJob
        /// Redis could not be reached or the call's outcome is unknown; see ``redis``. Retryable.
        case unavailable
        /// Redis answered something the store does not understand (a bug or a foreign key).
        case unexpectedReply
    }

    public let code: Code
    public let message: String
    /// The underlying Redis failure, for ``Code/unavailable``.
    public let redis: RedisError?

    public init(_ code: Code, _ message: String, redis: RedisError? = nil) {
        self.code = code
        self.message = message
        self.redis = redis
    }

    init(_ error: RedisError) {
        self.init(
            error.code == .serverError && !error.isRetryable ? .unexpectedReply : .unavailable, error.message,
            redis: error)
    }

    /// Whether the same call may succeed later (Redis down, restarting, loading).
    public var isRetryable: Bool { code == .unavailable }

    public var description: String { Redactor.shared.redact("JobStoreError.\(code.rawValue): \(message)") }
}
