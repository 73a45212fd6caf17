import TollgateCore

/// Fills `{name}` placeholders of flow texts (``Placeholders``, shared with broadcasts).
public enum FlowTemplate {
    /// Every placeholder a flow text may use.
    public static let names: Set<String> = ["first_name", "user_id", "record_id", "payment_url", "invite_link", "access_until", "topic", "topic_title"]

    /// `text` with each `{name}` replaced by `values[name]` (unknown names are left as they are).
    public static func render(_ text: String, _ values: [String: String]) -> String { Placeholders.render(text, values) }

    /// The placeholder names `text` uses.
    public static func placeholders(in text: String) -> [String] { Placeholders.names(in: text) }
}
