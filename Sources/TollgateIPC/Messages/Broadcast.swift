/// Broadcasts, for operators (served by bot-gateway; `tollgate broadcast …`): campaigns through
/// the durable outbox. Protocols/gateway.md, "Broadcasts".

/// A campaign as an operator sees it: where it stands and its figures.
public struct BroadcastSummary: Codable, Sendable, Equatable {
    public var id: String
    /// `preparing`, `running`, `paused`, `cancelled`, `done`.
    public var state: String
    /// The start of the text (at most 80 characters).
    public var text: String
    public var total: Int
    public var queued: Int
    public var leased: Int
    public var sent: Int
    public var suppressed: Int
    public var uncertain: Int
    /// Failed for good, by reason.
    public var failed: [String: Int]
    /// Still in line when it was cancelled.
    public var dropped: Int
    public var createdAtMs: Int64
    public var startAtMs: Int64?
    public var firstSentAtMs: Int64?
    public var lastSentAtMs: Int64?

    public init(
        id: String, state: String, text: String, total: Int, queued: Int, leased: Int, sent: Int, suppressed: Int, uncertain: Int,
        failed: [String: Int], dropped: Int, createdAtMs: Int64, startAtMs: Int64? = nil, firstSentAtMs: Int64? = nil,
        lastSentAtMs: Int64? = nil
    ) {
        self.id = id
        self.state = state
        self.text = text
        self.total = total
        self.queued = queued
        self.leased = leased
        self.sent = sent
        self.suppressed = suppressed
        self.uncertain = uncertain
        self.failed = failed
        self.dropped = dropped
        self.createdAtMs = createdAtMs
        self.startAtMs = startAtMs
        self.firstSentAtMs = firstSentAtMs
        self.lastSentAtMs = lastSentAtMs
    }

    enum CodingKeys: String, CodingKey {
        case id, state, text, total, queued, leased, sent, suppressed, uncertain, failed, dropped
        case createdAtMs = "created_at_ms"
        case startAtMs = "start_at_ms"
        case firstSentAtMs = "first_sent_at_ms"
        case lastSentAtMs = "last_sent_at_ms"
    }
}

/// Who a campaign goes to.
public struct BroadcastAudience: Codable, Sendable, Equatable {
    /// `all` (every user the bot knows: a state within USER_STATE_TTL), `state` (those in
    /// ``state``), `expiring` (members whose paid access ends within ``withinMs``), `ids` (the ids
    /// added with `broadcast_add`, then `broadcast_seal`).
    public var kind: String
    /// For `state`: `idle`, `topic_selected`, `awaiting_payment`, `paid`.
    public var state: String?
    /// For `expiring`: from now, how far ahead an end of access counts (1 minute to 365 days).
    public var withinMs: Int64?

    public init(kind: String, state: String? = nil, withinMs: Int64? = nil) {
        self.kind = kind
        self.state = state
        self.withinMs = withinMs
    }

    enum CodingKeys: String, CodingKey {
        case kind, state
        case withinMs = "within_ms"
    }

    public static let kinds = ["all", "state", "expiring", "ids"]
    public static let longestWindowMs: Int64 = 365 * 86_400_000
    public static let states = ["idle", "topic_selected", "awaiting_payment", "paid"]
}

/// `broadcast_create`: a campaign, once per idempotency key (a retried command answers the
/// first's id). `all` and `state` audiences are put in by the gateway, which then starts the
/// campaign; an `ids` audience waits for `broadcast_add` and `broadcast_seal`. With `dry_run`
/// nothing is made: the reply counts the audience.
public struct BroadcastCreate: IPCRequest, Equatable {
    public static let type = "broadcast_create"

    public var text: String
    public var audience: BroadcastAudience
    public var idempotencyKey: String
    public var startAtMs: Int64?
    /// `skip` (default) or `resend`.
    public var onUncertain: String?
    public var dryRun: Bool?
    /// A URL button under the message.
    public var button: BroadcastButton?
    /// A photo, video or document; the text is then its caption (at most 1,024 characters).
    public var media: BroadcastMedia?
    /// Past Telegram's 30 msg/s at `BROADCAST_PAID_RATE`, for 0.1 Star per message above it.
    public var allowPaidBroadcast: Bool?

    public init(
        text: String, audience: BroadcastAudience, idempotencyKey: String, startAtMs: Int64? = nil, onUncertain: String? = nil,
        dryRun: Bool? = nil, button: BroadcastButton? = nil, media: BroadcastMedia? = nil, allowPaidBroadcast: Bool? = nil
    ) {
        self.button = button
        self.media = media
        self.allowPaidBroadcast = allowPaidBroadcast
        self.text = text
        self.audience = audience
        self.idempotencyKey = idempotencyKey
        self.startAtMs = startAtMs
        self.onUncertain = onUncertain
        self.dryRun = dryRun
    }

    enum CodingKeys: String, CodingKey {
        case text, audience
        case idempotencyKey = "idempotency_key"
        case startAtMs = "start_at_ms"
        case onUncertain = "on_uncertain"
        case dryRun = "dry_run"
        case button, media
        case allowPaidBroadcast = "allow_paid_broadcast"
    }

    public struct Reply: Codable, Sendable, Equatable {
        /// Empty for a dry run.
        public var id: String
        /// False: the idempotency key had made it before (or a dry run).
        public var created: Bool
        /// The audience's size (for `ids`: 0 until added).
        public var audience: Int

        public init(id: String, created: Bool, audience: Int) {
            self.id = id
            self.created = created
            self.audience = audience
        }
    }
}

/// A URL button under a broadcast: its label (1-64 characters) and link (`https://`, `http://`
/// or `tg://`, at most 2048 bytes; `{user_id}` is filled per recipient).
/// A campaign's photo, video or document: `source` is `file_id:<id>`, an `https://` URL, or an
/// absolute path on the gateway's host (read when the campaign is made and when it is sent).
public struct BroadcastMedia: Codable, Sendable, Equatable {
    /// `photo`, `video` or `document`.
    public var kind: String
    public var source: String

    public init(kind: String, source: String) {
        self.kind = kind
        self.source = source
    }
}

public struct BroadcastButton: Codable, Sendable, Equatable {
    public var text: String
    public var url: String
    public init(text: String, url: String) {
        self.text = text
        self.url = url
    }
}

/// `broadcast_add`: up to 1,000 more recipients of an `ids` campaign still preparing (each once).
public struct BroadcastAdd: IPCRequest, Equatable {
    public static let type = "broadcast_add"

    public var id: String
    public var userIDs: [Int64]

    public init(id: String, userIDs: [Int64]) {
        self.id = id
        self.userIDs = userIDs
    }

    enum CodingKeys: String, CodingKey {
        case id
        case userIDs = "user_ids"
    }

    public struct Reply: Codable, Sendable, Equatable {
        public var added: Int
        public init(added: Int) { self.added = added }
    }
}

/// `broadcast_seal`: the audience of an `ids` campaign is complete: it starts (at its start time).
public struct BroadcastSeal: IPCRequest, Equatable {
    public static let type = "broadcast_seal"
    public var id: String
    public init(id: String) { self.id = id }
    public typealias Reply = BroadcastSummary
}

/// `broadcast_list`: the newest campaigns first (at most 100).
public struct BroadcastList: IPCRequest, Equatable {
    public static let type = "broadcast_list"
    public init() {}

    public struct Reply: Codable, Sendable, Equatable {
        public var campaigns: [BroadcastSummary]
        public init(campaigns: [BroadcastSummary]) { self.campaigns = campaigns }
    }
}

/// `broadcast_show`: one campaign's figures.
public struct BroadcastShow: IPCRequest, Equatable {
    public static let type = "broadcast_show"
    public var id: String
    public init(id: String) { self.id = id }
    public typealias Reply = BroadcastSummary
}

/// `broadcast_control`: `pause`, `resume` or `cancel` a campaign; answered with its figures.
public struct BroadcastControl: IPCRequest, Equatable {
    public static let type = "broadcast_control"
    public var id: String
    public var action: String
    public init(id: String, action: String) {
        self.id = id
        self.action = action
    }
    public typealias Reply = BroadcastSummary

    public static let actions = ["pause", "resume", "cancel"]
}

extension BroadcastCreate: IPCValidating {
    /// Telegram's limit for a message's text.
    public static let maxText = 4096

    public func validate() throws(IPCError) {
        if text.allSatisfy({ $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }) {
            throw IPCError(.invalidRequest, "'body.text' is empty")
        }
        if text.count > Self.maxText {
            throw IPCError(.invalidRequest, "'body.text' has \(text.count) characters; Telegram takes at most \(Self.maxText)")
        }
        guard BroadcastAudience.kinds.contains(audience.kind) else {
            throw IPCError(.invalidRequest, "'body.audience.kind' must be one of \(BroadcastAudience.kinds.joined(separator: ", "))")
        }
        if audience.kind == "state" {
            guard let state = audience.state, BroadcastAudience.states.contains(state) else {
                throw IPCError(
                    .invalidRequest, "'body.audience.state' must be one of \(BroadcastAudience.states.joined(separator: ", ")) for kind 'state'")
            }
        } else if audience.state != nil {
            throw IPCError(.invalidRequest, "'body.audience.state' goes only with kind 'state'")
        }
        if audience.kind == "expiring" {
            guard let within = audience.withinMs, (60_000...BroadcastAudience.longestWindowMs).contains(within) else {
                throw IPCError(.invalidRequest, "'body.audience.within_ms' must be from 60000 to \(BroadcastAudience.longestWindowMs) for kind 'expiring'")
            }
        } else if audience.withinMs != nil {
            throw IPCError(.invalidRequest, "'body.audience.within_ms' goes only with kind 'expiring'")
        }
        guard BroadcastControl.isID(idempotencyKey) else {
            throw IPCError(.invalidRequest, "'body.idempotency_key' must be 1-64 of A-Z a-z 0-9 _ -")
        }
        if let startAtMs, !(1...Schedule.latestDueAtMs).contains(startAtMs) {
            throw IPCError(.invalidRequest, "'body.start_at_ms' must be from 1 to \(Schedule.latestDueAtMs) (2100-01-01)")
        }
        if let onUncertain, !["skip", "resend"].contains(onUncertain) {
            throw IPCError(.invalidRequest, "'body.on_uncertain' must be skip or resend")
        }
        if let media {
            guard ["photo", "video", "document"].contains(media.kind) else {
                throw IPCError(.invalidRequest, "'body.media.kind' must be photo, video or document")
            }
            guard (1...4096).contains(media.source.utf8.count) else {
                throw IPCError(.invalidRequest, "'body.media.source' must be 1-4096 bytes")
            }
        }
    }
}

extension BroadcastAdd: IPCValidating {
    public static let maxIDs = 1000

    public func validate() throws(IPCError) {
        guard BroadcastControl.isID(id) else { throw IPCError(.invalidRequest, "'body.id' is not a campaign id") }
        guard !userIDs.isEmpty, userIDs.count <= Self.maxIDs else {
            throw IPCError(.invalidRequest, "'body.user_ids' must hold 1 to \(Self.maxIDs) ids (send more in several requests)")
        }
        guard userIDs.allSatisfy({ $0 > 0 }) else {
            throw IPCError(.invalidRequest, "'body.user_ids' must be positive Telegram user ids")
        }
    }
}

extension BroadcastSeal: IPCValidating {
    public func validate() throws(IPCError) {
        guard BroadcastControl.isID(id) else { throw IPCError(.invalidRequest, "'body.id' is not a campaign id") }
    }
}

extension BroadcastShow: IPCValidating {
    public func validate() throws(IPCError) {
        guard BroadcastControl.isID(id) else { throw IPCError(.invalidRequest, "'body.id' is not a campaign id") }
    }
}

extension BroadcastControl: IPCValidating {
    public func validate() throws(IPCError) {
        guard Self.isID(id) else { throw IPCError(.invalidRequest, "'body.id' is not a campaign id") }
        guard Self.actions.contains(action) else {
            throw IPCError(.invalidRequest, "'body.action' must be one of \(Self.actions.joined(separator: ", "))")
        }
    }

    /// A campaign id or idempotency key: 1-64 of `A-Z a-z 0-9 _ -`.
    public static func isID(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f || $0 == 0x2d }
    }
}
