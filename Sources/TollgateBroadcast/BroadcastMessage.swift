import Foundation

/// What a campaign sends, as stored in its fields (``BroadcastOutbox/create(id:fields:startAtMs:idempotencyKey:)``):
/// a text with the flow's placeholders, and what a send left uncertain by a crash becomes.
public struct BroadcastMessage: Sendable, Equatable {
    /// What a replay does with a send that may have gone out (a request on the wire when the run
    /// stopped): by default nothing (`skip`, counted as uncertain) — a recipient may miss it, never
    /// get it twice.
    public enum OnUncertain: String, Sendable, Equatable, CaseIterable {
        case skip, resend
    }

    public var text: String
    public var onUncertain: OnUncertain

    /// Placeholders a broadcast text may use (filled per recipient).
    public static let placeholders: Set<String> = ["first_name", "user_id"]
    /// Telegram's limit for a message's text.
    public static let maxText = 4096

    public init(text: String, onUncertain: OnUncertain = .skip) {
        self.text = text
        self.onUncertain = onUncertain
    }

    /// The stored form.
    public var fields: [String: String] { ["text": text, "on_uncertain": onUncertain.rawValue] }

    /// Reads the stored form, or says what is wrong with it — the same checks as for a new
    /// campaign (``validate()``), so a damaged record is refused, never sent.
    public init(fields: [String: String]) throws(BroadcastError) {
        guard let text = fields["text"] else { throw BroadcastError(.invalid, "the campaign has no text") }
        guard let policy = OnUncertain(rawValue: fields["on_uncertain"] ?? "skip") else {
            throw BroadcastError(.invalid, "on_uncertain must be skip or resend")
        }
        self.init(text: text, onUncertain: policy)
        try validate()
    }

    /// Empty, too long, or with a placeholder nobody fills: refused with the reason.
    public func validate() throws(BroadcastError) {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw BroadcastError(.invalid, "the text is empty")
        }
        if text.count > Self.maxText {
            throw BroadcastError(.invalid, "the text has \(text.count) characters; Telegram takes at most \(Self.maxText)")
        }
        for name in Self.placeholderNames(in: text) where !Self.placeholders.contains(name) {
            throw BroadcastError(
                .invalid, "unknown placeholder {\(name.prefix(40))}; a broadcast may use \(Self.placeholders.sorted().map { "{\($0)}" }.joined(separator: ", "))")
        }
    }

    /// The `{name}` placeholders of `text` (names of letters, digits and `_`).
    static func placeholderNames(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { break }
            let name = after[..<close]
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) { names.append(String(name)) }
            rest = after[after.index(after: close)...]
        }
        return names
    }

    /// The text for one recipient, in one pass (a first name holding `{user_id}` stays as it is).
    public func rendered(firstName: String, userID: Int64) -> String {
        let values = ["first_name": firstName, "user_id": String(userID)]
        var out = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "}"), let value = values[String(after[..<close])] {
                out += value
                rest = after[after.index(after: close)...]
            } else {
                out += "{"
                rest = after
            }
        }
        return out + rest
    }
}
