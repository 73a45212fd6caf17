/// A header value with `;`-separated parameters, as in `Content-Type` and
/// `Content-Disposition`: `form-data; name="file"; filename="a b.bin"`. Quoted values may
/// contain `;` and backslash escapes. Parameter names are matched case-insensitively.
struct HeaderParameters {
    /// The part before the first `;`, trimmed.
    let value: String
    private let parameters: [(String, String)]

    init(_ header: String) {
        var pieces: [Substring] = []
        var current = header.startIndex
        var start = header.startIndex
        var inQuotes = false
        var escaped = false
        while current < header.endIndex {
            let c = header[current]
            if escaped {
                escaped = false
            } else if inQuotes && c == "\\" {
                escaped = true
            } else if c == "\"" {
                inQuotes.toggle()
            } else if c == ";" && !inQuotes {
                pieces.append(header[start..<current])
                start = header.index(after: current)
            }
            current = header.index(after: current)
        }
        pieces.append(header[start...])
        value = Self.trim(pieces.first ?? "")
        parameters = pieces.dropFirst().compactMap { piece in
            guard let equals = piece.firstIndex(of: "=") else { return nil }
            let name = Self.trim(piece[..<equals]).lowercased()
            return (name, Self.unquote(Self.trim(piece[piece.index(after: equals)...])))
        }
    }

    subscript(_ name: String) -> String? {
        let wanted = name.lowercased()
        return parameters.first { $0.0 == wanted }?.1
    }

    static func trim(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    /// `"a \"b\""` → `a "b"`; an unquoted value is returned as is.
    static func unquote(_ text: String) -> String {
        guard text.count >= 2, text.first == "\"", text.last == "\"" else { return text }
        var out = ""
        var escaped = false
        for c in text.dropFirst().dropLast() {
            if escaped {
                out.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return out
    }
}
