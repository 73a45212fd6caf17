import TollgateCore

/// The one error of the NocoDB client, with a stable ``Code``; the description never carries the
/// token (it is never put there, and the text goes through `Redactor.shared` besides).
public struct NocoDBError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// 401/403: the token was refused.
        case unauthorized
        /// 404: no such table or record (``NocoDBError/remoteCode`` tells which, when the server said).
        case notFound
        /// 400/422 and other 4xx: the request was refused as it is (unknown column, bad where).
        case invalidRequest
        /// Still 429 after the client's throttle retries.
        case throttled
        /// Still 5xx after the client's retries.
        case serverError
        /// Still no response (connect failure, timeout) after the client's retries.
        case transport
        /// A create failed in a way that may have created the row (a timeout, a 500): not retried.
        case ambiguous
        /// The reply was not the JSON the API documents.
        case invalidResponse
        /// The shared rate limiter (Redis) could not be asked: nothing was sent.
        case limiterUnavailable
        /// A `where` value the v2 syntax cannot carry; nothing was sent.
        case invalidWhere
        /// The calling task was cancelled.
        case cancelled
    }

    public let code: Code
    public let message: String
    /// The HTTP status of the last response, when there was one.
    public let status: Int?
    /// NocoDB's own error code (`ERR_RECORD_NOT_FOUND`), when the body carried one.
    public let remoteCode: String?

    public init(_ code: Code, _ message: String, status: Int? = nil, remoteCode: String? = nil) {
        self.code = code
        self.message = Redactor.shared.redact(message)
        self.status = status
        self.remoteCode = remoteCode
    }

    /// Whether the same call may succeed later (the service should back off and try again).
    public var isRetryable: Bool {
        switch code {
        case .throttled, .serverError, .transport, .limiterUnavailable: true
        default: false
        }
    }

    public var description: String {
        var text = "NocoDBError.\(code.rawValue)"
        if let status { text += " (HTTP \(status))" }
        if let remoteCode { text += " \(remoteCode)" }
        return Redactor.shared.redact(text + ": " + message)
    }
}
