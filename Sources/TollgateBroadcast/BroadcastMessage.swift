import Foundation
import TollgateCore

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
    /// A URL button under the message (its label, its link; `{user_id}` may be in the link).
    public var button: (text: String, url: String)?

    /// Placeholders a broadcast text may use (filled per recipient).
    public static let placeholders: Set<String> = ["first_name", "user_id"]
    /// Telegram's limit for a message's text.
    public static let maxText = 4096

    public init(text: String, onUncertain: OnUncertain = .skip, button: (text: String, url: String)? = nil) {
        self.text = text
        self.onUncertain = onUncertain
        self.button = button
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.text == b.text && a.onUncertain == b.onUncertain && a.button?.text == b.button?.text && a.button?.url == b.button?.url
    }

    /// The stored form.
    public var fields: [String: String] {
        var fields = ["text": text, "on_uncertain": onUncertain.rawValue]
        if let button {
            fields["button_text"] = button.text
            fields["button_url"] = button.url
        }
        return fields
    }

    /// Reads the stored form, or says what is wrong with it — the same checks as for a new
    /// campaign (``validate()``), so a damaged record is refused, never sent.
    public init(fields: [String: String]) throws(BroadcastError) {
        guard let text = fields["text"] else { throw BroadcastError(.invalid, "the campaign has no text") }
        guard let policy = OnUncertain(rawValue: fields["on_uncertain"] ?? "skip") else {
            throw BroadcastError(.invalid, "on_uncertain must be skip or resend")
        }
        var button: (text: String, url: String)?
        if let label = fields["button_text"] {
            guard let url = fields["button_url"] else { throw BroadcastError(.invalid, "the campaign's button has no link") }
            button = (label, url)
        }
        self.init(text: text, onUncertain: policy, button: button)
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
        for name in Placeholders.names(in: text) where !Self.placeholders.contains(name) {
            throw BroadcastError(
                .invalid, "unknown placeholder {\(name.prefix(40))}; a broadcast may use \(Self.placeholders.sorted().map { "{\($0)}" }.joined(separator: ", "))")
        }
        if let button {
            let label = button.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !label.isEmpty, button.text.count <= 64 else { throw BroadcastError(.invalid, "the button's text must be 1-64 characters") }
            let url = button.url
            guard url.utf8.count <= 2048, ["https://", "http://", "tg://"].contains(where: url.hasPrefix),
                !url.contains(where: { $0 == " " || $0.isNewline })
            else {
                throw BroadcastError(.invalid, "the button's link must be an https://, http:// or tg:// URL of at most 2048 bytes, without spaces")
            }
            for name in Placeholders.names(in: url) where name != "user_id" {
                throw BroadcastError(.invalid, "unknown placeholder {\(name.prefix(40))} in the button's link; it may use {user_id}")
            }
        }
    }

    /// The text for one recipient, in one pass (a first name holding `{user_id}` stays as it is).
    public func rendered(firstName: String, userID: Int64) -> String {
        Placeholders.render(text, ["first_name": firstName, "user_id": String(userID)])
    }

    /// The button's link for one recipient.
    public func buttonURL(userID: Int64) -> String? {
        button.map { Placeholders.render($0.url, ["user_id": String(userID)]) }
    }
}
