import TollgateHTTPServer

/// The parameters of one Bot API request, from the query string, a form, a JSON body or a
/// multipart body (body values win over query values), as Telegram accepts them.
struct SimParams: Sendable {
    enum Value: Sendable {
        case text(String)
        case json(SimJSON)
        case file(MultipartFormPart)
    }

    var values: [String: Value] = [:]

    /// Reads every parameter of `request`; `nil` with a reason when the body cannot be read.
    static func read(_ request: HTTPServerRequest) -> Result<SimParams, SimRefusal> {
        var params = SimParams()
        for (name, value) in request.query { params.values[name] = .text(value) }
        let contentType = (request.header("content-type") ?? "").lowercased()
        if request.body.isEmpty { return .success(params) }
        if contentType.hasPrefix("application/json") {
            guard let json = SimJSON.parse(request.body), case .object(let members) = json else {
                return .failure(.badRequest("Bad Request: can't parse JSON object"))
            }
            for (name, value) in members { params.values[name] = .json(value) }
        } else if contentType.hasPrefix("multipart/form-data") {
            guard let parts = try? request.multipartParts() else {
                return .failure(.badRequest("Bad Request: can't parse multipart/form-data"))
            }
            for part in parts {
                params.values[part.name] = part.filename == nil ? .text(part.text) : .file(part)
            }
        } else if contentType.hasPrefix("application/x-www-form-urlencoded") || contentType.isEmpty {
            for (name, value) in request.formValues() { params.values[name] = .text(value) }
        } else {
            return .failure(.badRequest("Bad Request: unsupported Content-Type"))
        }
        return .success(params)
    }

    func string(_ name: String) -> String? {
        switch values[name] {
        case .text(let s): s
        case .json(.string(let s)): s
        case .json(.int(let v)): String(v)
        case .json(.double(let d)): String(d)
        case .json(.bool(let b)): b ? "true" : "false"
        default: nil
        }
    }

    /// An integer; `.failure` when present but not an integer.
    func int(_ name: String) -> Result<Int64?, SimRefusal> {
        guard values[name] != nil else { return .success(nil) }
        if case .json(let json) = values[name], let v = json.int64Value { return .success(v) }
        if let s = string(name), let v = Int64(s.trimmingCharacters(in: .whitespaces)) { return .success(v) }
        return .failure(.badRequest("Bad Request: invalid \(name) specified"))
    }

    func bool(_ name: String) -> Bool? {
        switch values[name] {
        case .json(.bool(let b)): return b
        case .json(.int(let v)): return v != 0
        default:
            guard let s = string(name)?.lowercased() else { return nil }
            return s == "true" || s == "1"
        }
    }

    /// A JSON value: given as JSON in a JSON body, or as JSON text in a query, form or multipart field.
    func json(_ name: String) -> SimJSON? {
        switch values[name] {
        case .json(let v): return v
        case .text(let s): return SimJSON.parse(Array(s.utf8))
        default: return nil
        }
    }

    func file(_ name: String) -> MultipartFormPart? {
        if case .file(let part) = values[name] { return part }
        return nil
    }
}

/// A Bot API error reply.
struct SimRefusal: Error, Sendable {
    var status: Int
    var description: String
    var retryAfter: Int?
    var migrateTo: Int64?

    static func badRequest(_ text: String) -> SimRefusal { SimRefusal(status: 400, description: text) }
    static func forbidden(_ text: String) -> SimRefusal { SimRefusal(status: 403, description: text) }
    static let chatNotFound = SimRefusal(status: 400, description: "Bad Request: chat not found")
}
