/// The one error type of TollgateHTTPServer, with a stable ``code``.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, stable across releases.
    public enum Code: String, Sendable, Hashable {
        /// The listening socket could not be created or bound.
        case bindFailed
        /// The server is not running (``HTTPServer/run()`` already ended, or was called twice).
        case notRunning
        /// A request body is not the `multipart/form-data` it claims to be.
        case malformedMultipart
        /// A request body could not be decoded as the JSON type asked for.
        case malformedJSON
    }

    /// The stable error code.
    public var code: Code
    /// A human-readable explanation (never request content beyond a decoder's message).
    public var detail: String

    /// Creates an error.
    public init(code: Code, detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "HTTPServerError.\(code.rawValue): \(detail)" }
}
