/// `{name}` placeholders in texts people write (flow texts, broadcasts): found and filled in one
/// pass. A name is letters and `_`; anything else between braces is left as it is.
public enum Placeholders {
    /// `text` with each `{name}` replaced by `values[name]` (unknown names are left as they are).
    /// One pass: a value holding `{name}` is not filled again.
    public static func render(_ text: String, _ values: [String: String]) -> String {
        guard text.contains("{") else { return text }
        var out = ""
        var rest = text[...]
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else {
                out += rest[open...]
                return out
            }
            let name = String(rest[rest.index(after: open)..<close])
            if let value = values[name] {
                out += value
            } else {
                out += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        out += rest
        return out
    }

    /// The placeholder names `text` uses.
    public static func names(in text: String) -> [String] {
        var found: [String] = []
        var rest = text[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            let name = rest[rest.index(after: open)..<close]
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0 == "_" }) { found.append(String(name)) }
            rest = rest[rest.index(after: close)...]
        }
        return found
    }
}
