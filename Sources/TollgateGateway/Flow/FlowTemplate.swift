/// Fills `{name}` placeholders of flow texts.
public enum FlowTemplate {
    /// Every placeholder a flow text may use.
    public static let names: Set<String> = ["first_name", "user_id", "record_id", "payment_url", "invite_link", "access_until", "topic", "topic_title"]

    /// `text` with each `{name}` replaced by `values[name]` (unknown names are left as they are).
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
    public static func placeholders(in text: String) -> [String] {
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
