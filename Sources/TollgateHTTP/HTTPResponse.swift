#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A complete HTTP response as returned by ``HTTPClient/execute(_:)``.
///
/// Every status is a response, not an error: a 429 or a 500 comes back here and the caller
/// decides; only transport failures throw ``HTTPClientError``.
public struct HTTPResponse: Sendable {
    /// The status code, e.g. 200 or 429.
    public var status: Int
    /// Response headers in the order received (of the final response when 1xx came first).
    public var headers: [(String, String)]
    /// The body bytes.
    public var body: [UInt8]
    /// The server's `Retry-After`, given as delta seconds or as an HTTP-date (then taken
    /// relative to the moment the response arrived, never negative); `nil` when absent or unparsable.
    public var retryAfter: Duration?
    /// Time from submitting the request to the end of the response.
    public var elapsed: Duration

    /// Creates a response; ``retryAfter`` is derived from the `Retry-After` header as of now.
    public init(status: Int, headers: [(String, String)], body: [UInt8], elapsed: Duration) {
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed
        self.retryAfter = nil
        if let value = Self.firstHeader("retry-after", in: headers) {
            self.retryAfter = RetryAfter.parse(value)
        }
    }

    /// The first value of header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        Self.firstHeader(name, in: headers)
    }

    /// Whether ``status`` is in 200..<300.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The body decoded as JSON.
    ///
    /// - Throws: The `DecodingError` of `JSONDecoder`.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(body))
    }

    /// The body as UTF-8 text (invalid sequences repaired), for logs and error messages.
    public var text: String { String(decoding: body, as: UTF8.self) }

    static func firstHeader(_ name: String, in headers: [(String, String)]) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.0.lowercased() == wanted }?.1
    }
}
