/// The club's door, for operators (served by bot-gateway; `tollgate club …`): the ledger's
/// figures, a manual grant or revoke through the same ledger, and a reconciliation on request.
/// Protocols/gateway.md, "The club's door".

/// One user's record in the entitlement ledger, as an operator sees it.
public struct ClubMember: Codable, Sendable, Equatable {
    public var userID: Int64
    public var entitled: Bool
    /// `nocodb:<row>` (a payment), `manual` (an operator).
    public var source: String?
    public var grantedAtMs: Int64?
    /// The end of access (Unix ms); absent: no end.
    public var expiresAtMs: Int64?
    /// Membership by chat as last seen (`member`, `left`, `kicked`, …), keyed by the chat id.
    public var membership: [String: String]
    /// Personal links currently held (one per chat at most).
    public var links: Int
    /// The flow's offer the grant is for; absent: the whole club.
    public var offer: String?

    public init(
        userID: Int64, entitled: Bool, source: String? = nil, grantedAtMs: Int64? = nil, expiresAtMs: Int64? = nil,
        membership: [String: String] = [:], links: Int = 0, offer: String? = nil
    ) {
        self.offer = offer
        self.userID = userID
        self.entitled = entitled
        self.source = source
        self.grantedAtMs = grantedAtMs
        self.expiresAtMs = expiresAtMs
        self.membership = membership
        self.links = links
    }

    enum CodingKeys: String, CodingKey {
        case entitled, source, membership, links, offer
        case userID = "user_id"
        case grantedAtMs = "granted_at_ms"
        case expiresAtMs = "expires_at_ms"
    }
}

/// What a reconciliation found and did.
public struct ReconcileReport: Codable, Sendable, Equatable {
    /// `schedule` (the leader's own) or `request` (an operator).
    public var trigger: String
    /// Nothing was changed: what would have been done is counted.
    public var dryRun: Bool
    public var startedAtMs: Int64
    public var finishedAtMs: Int64
    /// Ledger records read.
    public var scanned: Int
    /// `getChatMember` calls made.
    public var checked: Int
    /// Inside a club chat (member, administrator, restricted) when checked.
    public var inside: Int
    public var entitled: Int
    /// Inside without being entitled (before the fixes).
    public var insideUnentitled: Int
    /// Entitled, outside, without a live link (before the fixes).
    public var strandedPayers: Int
    /// Shown out: inside without a right, and the row says unpaid too.
    public var removed: Int
    /// Stranded payers sent a fresh personal link (once per grant).
    public var reinvited: Int
    /// Inside without a ledger right, but their row says paid: left inside (the payment watch
    /// confirms it; an operator grants by hand if the ledger lost it) and reported.
    public var keptPaid: Int
    /// Periods that ended moments ago, left to their own lapse job.
    public var pendingLapses: Int
    /// Users whose check failed (Telegram or NocoDB did not answer): left as they were.
    public var errors: Int

    public init(trigger: String, dryRun: Bool, startedAtMs: Int64) {
        self.trigger = trigger
        self.dryRun = dryRun
        self.startedAtMs = startedAtMs
        finishedAtMs = startedAtMs
        scanned = 0
        checked = 0
        inside = 0
        entitled = 0
        insideUnentitled = 0
        strandedPayers = 0
        removed = 0
        reinvited = 0
        keptPaid = 0
        pendingLapses = 0
        errors = 0
    }

    enum CodingKeys: String, CodingKey {
        case trigger, scanned, checked, inside, entitled, removed, reinvited, errors
        case dryRun = "dry_run"
        case startedAtMs = "started_at_ms"
        case finishedAtMs = "finished_at_ms"
        case insideUnentitled = "inside_unentitled"
        case strandedPayers = "stranded_payers"
        case pendingLapses = "pending_lapses"
        case keptPaid = "kept_paid"
    }
}

/// `club_status`: the ledger's figures (from the membership last seen; a reconciliation checks
/// them against Telegram) and the last reconciliation's report.
public struct ClubStatus: IPCRequest, Equatable {
    public static let type = "club_status"
    public init() {}

    public struct Reply: Codable, Sendable, Equatable {
        public var chats: [Int64]
        public var mode: String
        /// `none`, `period`, `column`.
        public var periods: String
        /// Ledger records.
        public var known: Int
        public var entitled: Int
        /// Inside at least one club chat, as last seen.
        public var members: Int
        /// Drift as last seen: inside without a right.
        public var insideUnentitled: Int
        /// Drift as last seen: entitled, in no club chat, without a live link.
        public var strandedPayers: Int
        public var lastReconcile: ReconcileReport?
        /// When the next scheduled reconciliation is due (Unix ms); absent: only on request.
        public var nextReconcileAtMs: Int64?

        public init(
            chats: [Int64], mode: String, periods: String, known: Int, entitled: Int, members: Int, insideUnentitled: Int,
            strandedPayers: Int, lastReconcile: ReconcileReport?, nextReconcileAtMs: Int64?
        ) {
            self.chats = chats
            self.mode = mode
            self.periods = periods
            self.known = known
            self.entitled = entitled
            self.members = members
            self.insideUnentitled = insideUnentitled
            self.strandedPayers = strandedPayers
            self.lastReconcile = lastReconcile
            self.nextReconcileAtMs = nextReconcileAtMs
        }

        enum CodingKeys: String, CodingKey {
            case chats, mode, periods, known, entitled, members
            case insideUnentitled = "inside_unentitled"
            case strandedPayers = "stranded_payers"
            case lastReconcile = "last_reconcile"
            case nextReconcileAtMs = "next_reconcile_at_ms"
        }
    }
}

/// `club_grant`: an operator lets a user in, through the ledger (source `manual`): until a time,
/// for a period from now (or from the current end while access runs), or with no end. The reply
/// carries the user's personal links (or the join-request link) to hand over.
public struct ClubGrant: IPCRequest, Equatable {
    public static let type = "club_grant"

    public var userID: Int64
    public var untilMs: Int64?
    public var periodMs: Int64?
    /// The flow's offer to grant (a `topics` id; empty: the whole club); absent: the offer the
    /// user holds stays.
    public var offer: String?

    public init(userID: Int64, untilMs: Int64? = nil, periodMs: Int64? = nil, offer: String? = nil) {
        self.userID = userID
        self.untilMs = untilMs
        self.periodMs = periodMs
        self.offer = offer
    }

    enum CodingKeys: String, CodingKey {
        case offer
        case userID = "user_id"
        case untilMs = "until_ms"
        case periodMs = "period_ms"
    }

    public struct Reply: Codable, Sendable, Equatable {
        public var member: ClubMember
        public var links: [String]

        public init(member: ClubMember, links: [String]) {
            self.member = member
            self.links = links
        }
    }
}

/// `club_revoke`: an operator takes access away: the ledger says not entitled, the user is shown
/// out of every club chat (administrators and the allow-list excepted), their links are revoked.
public struct ClubRevoke: IPCRequest, Equatable {
    public static let type = "club_revoke"

    public var userID: Int64
    public init(userID: Int64) { self.userID = userID }

    enum CodingKeys: String, CodingKey { case userID = "user_id" }

    public struct Reply: Codable, Sendable, Equatable {
        public var member: ClubMember
        /// In how many chats the user was shown out.
        public var removedFrom: Int

        public init(member: ClubMember, removedFrom: Int) {
            self.member = member
            self.removedFrom = removedFrom
        }

        enum CodingKeys: String, CodingKey {
            case member
            case removedFrom = "removed_from"
        }
    }
}

/// `club_reconcile`: compare the ledger with Telegram and NocoDB now and fix the drift (or, with
/// `dry_run`, only count it). Answered with the report once done; `conflict` while another
/// reconciliation runs.
public struct ClubReconcile: IPCRequest, Equatable {
    public static let type = "club_reconcile"

    public var dryRun: Bool?
    public init(dryRun: Bool? = nil) { self.dryRun = dryRun }

    enum CodingKeys: String, CodingKey { case dryRun = "dry_run" }

    public typealias Reply = ReconcileReport
}

extension ClubGrant: IPCValidating {
    /// The longest period a manual grant may give: 10 years.
    public static let longestPeriodMs: Int64 = 10 * 365 * 86_400_000

    public func validate() throws(IPCError) {
        guard userID > 0 else { throw IPCError(.invalidRequest, "'body.user_id' must be a positive Telegram user id") }
        switch (untilMs, periodMs) {
        case (.some, .some):
            throw IPCError(.invalidRequest, "at most one of 'body.until_ms' and 'body.period_ms' may be given")
        case (.some(let until), nil) where !(1...Schedule.latestDueAtMs).contains(until):
            throw IPCError(.invalidRequest, "'body.until_ms' must be from 1 to \(Schedule.latestDueAtMs) (2100-01-01)")
        case (nil, .some(let period)) where !(1000...Self.longestPeriodMs).contains(period):
            throw IPCError(.invalidRequest, "'body.period_ms' must be from 1000 to \(Self.longestPeriodMs) (10 years)")
        default: break
        }
        if let offer, !offer.isEmpty, !Self.isOfferID(offer) {
            throw IPCError(.invalidRequest, "'body.offer' must be 1-32 of a-z 0-9 _ - (an offer of the flow), or empty for the whole club")
        }
    }

    /// An offer id as the flow file spells them: 1-32 of `a-z 0-9 _ -`.
    public static func isOfferID(_ id: String) -> Bool {
        (1...32).contains(id.utf8.count) && id.utf8.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f || $0 == 0x2d }
    }
}

extension ClubRevoke: IPCValidating {
    public func validate() throws(IPCError) {
        guard userID > 0 else { throw IPCError(.invalidRequest, "'body.user_id' must be a positive Telegram user id") }
    }
}
