/// A `multipart/form-data` body parser (RFC 7578 over RFC 2046 framing): finds the parts
/// between `--boundary` delimiters, reads each part's headers, and keeps its bytes untouched.
struct MultipartParser {
    let boundary: [UInt8]

    init(boundary: String) {
        self.boundary = Array(boundary.utf8)
    }

    /// The `boundary` parameter of a `multipart/form-data` content type, unquoted.
    static func boundary(fromContentType contentType: String) -> String? {
        let params = HeaderParameters(contentType)
        guard params.value.lowercased() == "multipart/form-data",
            let boundary = params["boundary"], !boundary.isEmpty, boundary.utf8.count <= 200
        else { return nil }
        return boundary
    }

    func parse(_ body: [UInt8]) throws -> [MultipartFormPart] {
        let delimiter = Array("--".utf8) + boundary
        let crlf: [UInt8] = [0x0D, 0x0A]
        // The first delimiter may be preceded by a preamble; later ones by CRLF.
        guard var cursor = Self.find(delimiter, in: body, from: 0) else {
            throw malformed("no opening boundary")
        }
        cursor += delimiter.count
        var parts: [MultipartFormPart] = []
        while true {
            if Self.matches([UInt8(ascii: "-"), UInt8(ascii: "-")], in: body, at: cursor) { return parts }
            cursor = Self.skipTransportPadding(body, from: cursor)
            guard Self.matches(crlf, in: body, at: cursor) else { throw malformed("no CRLF after boundary") }
            cursor += 2
            let headerBytes: ArraySlice<UInt8>
            if Self.matches(crlf, in: body, at: cursor) {
                headerBytes = []  // a part without headers
                cursor += 2
            } else {
                guard let headerEnd = Self.find(crlf + crlf, in: body, from: cursor) else {
                    throw malformed("unterminated part headers")
                }
                headerBytes = body[cursor..<headerEnd]
                cursor = headerEnd + 4
            }
            guard let next = Self.find(crlf + delimiter, in: body, from: cursor) else {
                throw malformed("unterminated part")
            }
            parts.append(try makePart(headers: headerBytes, bytes: Array(body[cursor..<next])))
            cursor = next + 2 + delimiter.count
        }
    }

    private func makePart(headers: ArraySlice<UInt8>, bytes: [UInt8]) throws -> MultipartFormPart {
        var name: String?
        var filename: String?
        var contentType: String?
        let text = String(decoding: headers, as: UTF8.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let field = line[..<colon].lowercased()
            let value = String(line[line.index(after: colon)...])
            switch field {
            case "content-disposition":
                let params = HeaderParameters(value)
                name = params["name"]
                filename = params["filename"]
            case "content-type":
                contentType = HeaderParameters.trim(Substring(value))
            default:
                continue
            }
        }
        guard let name else { throw malformed("part without a name") }
        return MultipartFormPart(name: name, filename: filename, contentType: contentType, bytes: bytes)
    }

    private func malformed(_ detail: String) -> HTTPServerError {
        HTTPServerError(code: .malformedMultipart, detail: detail)
    }

    /// Linear-space whitespace allowed after a delimiter before its CRLF.
    private static func skipTransportPadding(_ body: [UInt8], from index: Int) -> Int {
        var i = index
        while i < body.count, body[i] == 0x20 || body[i] == 0x09 { i += 1 }
        return i
    }

    static func matches(_ needle: [UInt8], in haystack: [UInt8], at index: Int) -> Bool {
        guard index >= 0, index + needle.count <= haystack.count else { return false }
        for k in 0..<needle.count where haystack[index + k] != needle[k] { return false }
        return true
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, needle.count <= haystack.count else { return nil }
        var i = start
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first, matches(needle, in: haystack, at: i) { return i }
            i += 1
        }
        return nil
    }
}
