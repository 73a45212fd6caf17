#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A complete HTTP request as handed to an ``HTTPServerHandler``: the body is fully received
/// (at most the server's `maxBodyBytes`).
public struct HTTPServerRequest: Sendable {
    /// The method, e.g. `GET`.
    public var method: String
    /// The path without the query, percent-decoded (`/bot123:abc/getUpdates`).
    public var path: String
    /// Query parameters in order, percent-decoded (`+` is a space).
    public var query: [(String, String)]
    /// Request headers in order.
    public var headers: [(String, String)]
    /// The body bytes.
    public var body: [UInt8]

    /// Creates a request from its parts (tests and simulators build requests this way).
    public init(
        method: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Creates a request from a raw request target (`/path?a=1&b=2`), decoding path and query.
    public init(method: String, target: String, headers: [(String, String)] = [], body: [UInt8] = []) {
        let (rawPath, rawQuery) = URLEncoding.splitTarget(target)
        self.init(
            method: method, path: URLEncoding.percentDecode(rawPath, plusIsSpace: false),
            query: URLEncoding.parsePairs(rawQuery), headers: headers, body: body)
    }

    /// The first value of query parameter `name` (case-sensitive), if any.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.0 == name }?.1
    }

    /// The first value of header `name`, compared case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.0.lowercased() == wanted }?.1
    }

    /// The body as `application/x-www-form-urlencoded` pairs, percent-decoded (`+` is a space).
    public func formValues() -> [(String, String)] {
        URLEncoding.parsePairs(String(decoding: body, as: UTF8.self))
    }

    /// The body as `multipart/form-data` parts.
    ///
    /// - Throws: ``HTTPServerError`` `malformedMultipart` when the content type has no boundary
    ///   or the body does not follow it.
    public func multipartParts() throws -> [MultipartFormPart] {
        guard let contentType = header("content-type"),
            let boundary = MultipartParser.boundary(fromContentType: contentType)
        else {
            throw HTTPServerError(code: .malformedMultipart, detail: "not multipart/form-data with a boundary")
        }
        return try MultipartParser(boundary: boundary).parse(body)
    }

    /// The body decoded as JSON.
    ///
    /// - Throws: ``HTTPServerError`` `malformedJSON` with the decoder's message.
    public func jsonBody<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw HTTPServerError(code: .malformedJSON, detail: "\(error)")
        }
    }
}
