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

    /// A photo, video or document with the text as its caption.
    public struct Media: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable { case photo, video, document }
        public var kind: Kind
        /// `file_id:<id>` (a file Telegram has), an `https://` or `http://` URL Telegram fetches, or
        /// an absolute path on the gateway's host (uploaded once, then sent by its `file_id`).
        public var source: String

        public init(kind: Kind, source: String) {
            self.kind = kind
            self.source = source
        }

        public enum Source: Sendable, Equatable {
            case fileID(String), url(String), path(String)
        }

        /// What ``source`` names.
        public var parsed: Source {
            if source.hasPrefix("file_id:") { return .fileID(String(source.dropFirst("file_id:".count))) }
            if source.hasPrefix("https://") || source.hasPrefix("http://") { return .url(source) }
            return .path(source)
        }
    }

    public var text: String
    public var onUncertain: OnUncertain
    /// A URL button under the message (its label, its link; `{user_id}` may be in the link).
    public var button: (text: String, url: String)?
    public var media: Media?
    /// Sent with `allow_paid_broadcast`: past 30 msg/s at `BROADCAST_PAID_RATE`, for 0.1 Star per
    /// message above the free limit.
    public var allowPaidBroadcast = false

    /// Placeholders a broadcast text may use (filled per recipient).
    public static let placeholders: Set<String> = ["first_name", "user_id"]
    /// Telegram's limit for a message's text, and for a caption (in UTF-16 code units, as Telegram counts).
    public static let maxText = 4096
    public static let maxCaption = 1024

    public init(text: String, onUncertain: OnUncertain = .skip, button: (text: String, url: String)? = nil) {
        self.text = text
        self.onUncertain = onUncertain
        self.button = button
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.text == b.text && a.onUncertain == b.onUncertain && a.button?.text == b.button?.text && a.button?.url == b.button?.url
            && a.media == b.media && a.allowPaidBroadcast == b.allowPaidBroadcast
    }

    /// The stored form.
    public var fields: [String: String] {
        var fields = ["text": text, "on_uncertain": onUncertain.rawValue]
        if let button {
            fields["button_text"] = button.text
            fields["button_url"] = button.url
        }
        if let media {
            fields["media_kind"] = media.kind.rawValue
            fields["media_source"] = media.source
        }
        if allowPaidBroadcast { fields["allow_paid_broadcast"] = "1" }
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
        if let kind = fields["media_kind"] {
            guard let k = Media.Kind(rawValue: kind), let source = fields["media_source"] else {
                throw BroadcastError(.invalid, "the campaign's media is not photo, video or document with a source")
            }
            media = Media(kind: k, source: source)
        }
        allowPaidBroadcast = fields["allow_paid_broadcast"] == "1"
        try validate()
    }

    /// Empty, too long, or with a placeholder nobody fills: refused with the reason.
    public func validate() throws(BroadcastError) {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw BroadcastError(.invalid, "the text is empty")
        }
        if media == nil, text.utf16.count > Self.maxText {
            throw BroadcastError(.invalid, "the text has \(text.utf16.count) characters; Telegram takes at most \(Self.maxText)")
        }
        if media != nil, text.utf16.count > Self.maxCaption {
            throw BroadcastError(.invalid, "the caption has \(text.utf16.count) characters; Telegram takes at most \(Self.maxCaption) under media")
        }
        if let media {
            switch media.parsed {
            case .fileID(let id):
                guard !id.isEmpty, id.utf8.count <= 256, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
                    throw BroadcastError(.invalid, "the media's file_id must be 1-256 letters, digits, _ or -")
                }
            case .url(let url):
                guard url.utf8.count <= 2048, !url.contains(where: { $0 == " " || $0.isNewline }) else {
                    throw BroadcastError(.invalid, "the media's URL must be at most 2048 bytes, without spaces")
                }
            case .path(let path):
                guard path.hasPrefix("/"), path.utf8.count <= 4096, !path.contains(where: \.isNewline), !path.contains("\u{0}") else {
                    throw BroadcastError(.invalid, "the media must be file_id:<id>, an https:// URL or an absolute path on the gateway's host")
                }
            }
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
