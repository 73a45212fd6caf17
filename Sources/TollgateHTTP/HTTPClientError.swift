/// The one error ``HTTPClient`` throws: a stable ``code``, the request's method and redacted URL,
/// and libcurl's own words.
///
/// The description never carries a secret: the URL is the redacted one and libcurl's message is
/// passed through `Redactor.shared` too.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, stable across releases (metrics labels and retry decisions use it).
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The URL cannot be parsed or its scheme is not http/https (CURLE_URL_MALFORMAT,
        /// CURLE_UNSUPPORTED_PROTOCOL).
        case invalidURL
        /// The host could not be resolved or refused the connection (CURLE_COULDNT_RESOLVE_HOST,
        /// CURLE_COULDNT_CONNECT).
        case connectFailed
        /// No connection within ``HTTPRequest/connectTimeout``.
        case connectTimeout
        /// The request did not complete within ``HTTPRequest/timeout``.
        case timeout
        /// The calling task was cancelled.
        case cancelled
        /// The body exceeded ``HTTPRequest/maxResponseBytes``.
        case responseTooLarge
        /// Any other libcurl failure; ``HTTPClientError/curlCode`` keeps its number.
        case transport
        /// The client was shut down before or while the request ran.
        case shutdown
        /// The request's ``HTTPRequest/notAfter`` passed before it could leave: nothing was sent.
        case expired
    }

    /// The stable error code.
    public var code: Code
    /// The libcurl `CURLcode` behind the error, when there was one.
    public var curlCode: Int?
    /// The request method.
    public var method: String
    /// The request URL as redacted by `Redactor.shared`.
    public var redactedURL: String
    /// libcurl's message (redacted), or a short explanation.
    public var detail: String

    /// Creates an error; `url` is redacted here, so callers may pass the raw URL.
    public init(code: Code, curlCode: Int? = nil, method: String, redactedURL: String, detail: String = "") {
        self.code = code
        self.curlCode = curlCode
        self.method = method
        self.redactedURL = redactedURL
        self.detail = detail
    }

    /// Whether trying the same request again may succeed: connection failures, timeouts and the
    /// transport errors that mean a broken connection. Whether a *non-idempotent* request may be
    /// repeated after a `timeout` (it may have reached the server) is the caller's decision.
    public var isRetryable: Bool {
        switch code {
        case .connectFailed, .connectTimeout, .timeout:
            return true
        case .transport:
            return curlCode.map(Self.retryableCurlCodes.contains) ?? false
        case .invalidURL, .cancelled, .responseTooLarge, .shutdown, .expired:
            return false
        }
    }

    public var description: String {
        var text = "HTTPClientError.\(code.rawValue)"
        if let curlCode { text += " (curl \(curlCode))" }
        text += ": \(method) \(redactedURL)"
        if !detail.isEmpty { text += ": \(detail)" }
        return text
    }

    /// Partial file (18), TLS connect (35), got nothing (52), send (55) and receive (56) errors,
    /// HTTP/2 framing (16) and stream (92) errors: the connection broke, a new one may work.
    static let retryableCurlCodes: Set<Int> = [16, 18, 35, 52, 55, 56, 92]
}
