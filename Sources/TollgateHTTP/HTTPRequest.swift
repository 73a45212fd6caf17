#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import TollgateCore

/// One HTTP request for ``HTTPClient``: method, URL, headers, body and per-request limits.
///
/// ```swift
/// let request = try HTTPRequest.json("POST", "\(api)/sendMessage", SendMessage(chatID: 1, text: "hi"))
/// let response = try await client.execute(request)
/// ```
public struct HTTPRequest: Sendable {
    /// The body sent with a request.
    public enum Body: Sendable {
        /// No body (GET, DELETE, ...). A POST without a body is sent with `Content-Length: 0`.
        case none
        /// Raw bytes with their `Content-Type`.
        case bytes([UInt8], contentType: String)
        /// A `multipart/form-data` body (file uploads), built by libcurl's MIME API.
        case multipart([MultipartPart])
    }

    /// The method token, e.g. `GET`, `POST`, `PATCH`.
    public var method: String
    /// The absolute `http://` or `https://` URL. Log ``redactedURL`` instead: it may carry a token.
    public var url: String
    /// Request headers in order; names are matched case-insensitively by the server.
    public var headers: [(String, String)]
    /// The body.
    public var body: Body
    /// The longest time to wait for the connection (TCP and TLS) to be established.
    public var connectTimeout: Duration
    /// The longest time the whole request may take, connection included.
    public var timeout: Duration
    /// The largest response body accepted; a larger one fails with ``HTTPClientError/Code/responseTooLarge``.
    public var maxResponseBytes: Int
    /// Connect to this Unix domain socket instead of the URL's host and port (the URL still
    /// gives the path and the `Host` header, e.g. `http://localhost/health`).
    public var unixSocketPath: String?
    /// The request must leave by then, or not at all (``HTTPClientError/Code/expired``): the
    /// client's thread checks it when it starts the transfer. A rate-limited request whose slot is
    /// stale — granted, then held up by a busy machine — must not go out bunched with later ones.
    public var notAfter: ContinuousClock.Instant?

    /// Creates a request. Defaults: connect timeout 5 s, total timeout 30 s, 16 MiB of response body.
    public init(
        method: String,
        url: String,
        headers: [(String, String)] = [],
        body: Body = .none,
        connectTimeout: Duration = .seconds(5),
        timeout: Duration = .seconds(30),
        maxResponseBytes: Int = 16 << 20,
        unixSocketPath: String? = nil
    ) {
        self.unixSocketPath = unixSocketPath
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }

    /// The URL with secrets scrubbed by `Redactor.shared` (a `/bot<id>:<token>` path included):
    /// the only form of the URL that may reach a log line, an error or a metric.
    public var redactedURL: String {
        Redactor.shared.redact(url)
    }

    /// A request whose body is `body` encoded as JSON (`Content-Type: application/json`).
    ///
    /// - Throws: The `EncodingError` of `JSONEncoder` when `body` cannot be encoded.
    public static func json<T: Encodable>(
        _ method: String, _ url: String, _ body: T, headers: [(String, String)] = []
    ) throws -> HTTPRequest {
        let data = try JSONEncoder().encode(body)
        return HTTPRequest(
            method: method, url: url, headers: headers,
            body: .bytes(Array(data), contentType: "application/json"))
    }

    /// A `GET` request for `url`.
    public static func get(_ url: String, headers: [(String, String)] = []) -> HTTPRequest {
        HTTPRequest(method: "GET", url: url, headers: headers)
    }
}
