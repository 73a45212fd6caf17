#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A response returned by an ``HTTPServerHandler``.
///
/// `Content-Length` is set by the server; `Connection` is managed by the server (keep-alive unless
/// the client asked to close or the server is shutting down).
public struct HTTPServerResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Response headers in order.
    public var headers: [(String, String)]
    /// The body.
    public var body: [UInt8]
    /// Write the body a few bytes at a time, pausing this long between pieces (a slow peer, for
    /// simulators); nil writes it at once.
    public var trickle: Duration?
    /// Close the connection without answering at all (a peer that did the work and then lost
    /// the connection, for simulators): the client cannot tell whether the request took effect.
    public var dropConnection = false

    /// Creates a response from its parts.
    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], trickle: Duration? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.trickle = trickle
    }

    /// No answer: the connection is closed as soon as the handler returns.
    public static var dropped: HTTPServerResponse {
        var response = HTTPServerResponse(status: 500)
        response.dropConnection = true
        return response
    }

    /// `value` encoded as JSON with `Content-Type: application/json`; a value that cannot be
    /// encoded becomes a 500 with a short text body.
    public static func json<T: Encodable>(_ value: T, status: Int = 200) -> HTTPServerResponse {
        do {
            let data = try JSONEncoder().encode(value)
            return HTTPServerResponse(
                status: status, headers: [("Content-Type", "application/json")], body: Array(data))
        } catch {
            return .text("cannot encode response", status: 500)
        }
    }

    /// A text response.
    public static func text(
        _ s: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8"
    ) -> HTTPServerResponse {
        HTTPServerResponse(status: status, headers: [("Content-Type", contentType)], body: Array(s.utf8))
    }

    /// A response without a body.
    public static func empty(status: Int) -> HTTPServerResponse {
        HTTPServerResponse(status: status)
    }
}
