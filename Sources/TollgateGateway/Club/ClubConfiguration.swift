import Foundation
import TollgateCore

/// The paid club's door (README, "The club's door"): which chats, how people get in, and who is
/// never removed. Without `CLUB_CHAT_ID` the flow works as before (the flow file's static link).
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `CLUB_CHAT_ID` | unset | the club: a private supergroup or channel id (`-100…`); several separated by commas |
/// | `ACCESS_MODE` | `invite_link` | `invite_link`: a personal link per payer (one member, expiring); `join_request`: one link that asks to join, approved for payers only |
/// | `INVITE_TTL` | `24h` | how long a personal link works (1m…30d); a payer asking again after that gets a new one |
/// | `CLUB_REMOVE_UNENTITLED` | `yes` | remove a member who is not entitled (joined with someone else's link); needs `can_restrict_members` |
/// | `CLUB_ALLOW_LIST` | empty | user ids never removed (besides the chat's administrators) |
/// | `ACCESS_PERIOD` | unset | how long a payment gives access (10s…3650d, e.g. `30d`); unset: no end (unless the row's expiry column says) |
/// | `NOCODB_PAID_UNTIL_FIELD` | unset | the row's column with the end of the paid period (read by ``PaidUntil``); wins over `ACCESS_PERIOD` |
/// | `NOCODB_OFFER_FIELD` | unset | the row's column naming the offer paid for (a `topics` id, written by the payment system); wins over the user's pick |
/// | `RECONCILE_INTERVAL` | `24h` | how often the leading gateway compares the ledger with Telegram and NocoDB (1m…30d); `off`: only on request (`tollgate club reconcile`) |
/// | `RECONCILE_SHARE` | `0.1` | the share of `TELEGRAM_GLOBAL_RATE` a reconciliation may use for its own calls (0.01…1), in its own cluster-wide budget |
public struct ClubConfiguration: Sendable, Equatable {
    public enum AccessMode: String, Sendable, Equatable, CaseIterable {
        case inviteLink = "invite_link"
        case joinRequest = "join_request"
    }

    public var chats: [Int64]
    public var mode: AccessMode
    public var inviteTTL: Duration
    public var removeUnentitled: Bool
    public var allowList: Set<Int64>
    /// How long a payment gives access (`ACCESS_PERIOD`); nil: no end unless the row says.
    public var accessPeriod: Duration?
    /// The row's expiry column (`NOCODB_PAID_UNTIL_FIELD`), when there is one.
    public var paidUntilField: String?
    /// The row's offer column (`NOCODB_OFFER_FIELD`), when there is one: what it names is granted,
    /// whatever the user picked.
    public var offerField: String?

    /// How often the leading gateway reconciles (`RECONCILE_INTERVAL`); nil: only on request.
    public var reconcileInterval: Duration?
    /// The share of the bot's message rate a reconciliation's own calls may use (`RECONCILE_SHARE`).
    public var reconcileShare: Double

    /// What one of the flow's offers (`topics`) opens: its chats and its period.
    public struct Offer: Sendable, Equatable {
        public var chats: [Int64]
        /// nil: `ACCESS_PERIOD`.
        public var period: Duration?
    }

    /// The flow's offers by id (``adopt(_:)``).
    public var offers: [String: Offer] = [:]

    /// The club chats a grant for `offer` opens: a grant for no offer, or a flow without offers,
    /// opens every chat; a grant for an offer the flow no longer lists opens none (the door stays
    /// shut rather than opening what was not paid for — keep an offer's id while anyone holds it).
    public func chats(of offer: String?) -> [Int64] {
        guard let offer, !offers.isEmpty else { return chats }
        return offers[offer]?.chats ?? []
    }

    /// Whether a grant names an offer the flow does not list (``chats(of:)`` opens nothing for it).
    public func isUnknown(offer: String?) -> Bool {
        guard let offer, !offers.isEmpty else { return false }
        return offers[offer] == nil
    }

    /// How long a payment for `offer` gives access (nil: no end unless the row says).
    public func period(of offer: String?) -> Duration? { offer.flatMap { offers[$0]?.period } ?? accessPeriod }

    /// Takes in the flow's offers; returns what is wrong with them (a chat not in `CLUB_CHAT_ID`,
    /// a period while access has no periods, or while the row's expiry column sets the end).
    public mutating func adopt(_ topics: [FlowDefinition.Topic]) -> [String] {
        var problems: [String] = []
        offers = [:]
        for topic in topics {
            let chats = topic.chats ?? self.chats
            for chat in chats where !self.chats.contains(chat) {
                problems.append("topic '\(topic.id)' names chat \(chat), which is not in CLUB_CHAT_ID")
            }
            if topic.accessPeriod != nil, paidUntilField != nil {
                problems.append(
                    "topic '\(topic.id)' has an access_period, but NOCODB_PAID_UNTIL_FIELD sets the end of access from the row: remove one of them")
            } else if topic.accessPeriod != nil, !hasPeriods {
                problems.append(
                    "topic '\(topic.id)' has an access_period, but access has no periods: set ACCESS_PERIOD (the default period)")
            }
            offers[topic.id] = Offer(chats: chats.filter(self.chats.contains), period: topic.accessPeriod)
        }
        return problems
    }

    /// Access ends: renewal reminders, lapses and removal are scheduled.
    public var hasPeriods: Bool { accessPeriod != nil || paidUntilField != nil }

    /// Payments are credited as periods: `ACCESS_PERIOD` without an expiry column (``AccessTerms``).
    public var creditsPayments: Bool { accessPeriod != nil && paidUntilField == nil }

    /// The bot must be able to ban: members who are not entitled are removed, or periods end.
    public var needsRestrict: Bool { removeUnentitled || hasPeriods }

    public init(
        chats: [Int64], mode: AccessMode = .inviteLink, inviteTTL: Duration = .seconds(86400), removeUnentitled: Bool = true,
        allowList: Set<Int64> = [], accessPeriod: Duration? = nil, paidUntilField: String? = nil,
        reconcileInterval: Duration? = .seconds(86400), reconcileShare: Double = 0.1
    ) {
        self.reconcileInterval = reconcileInterval
        self.reconcileShare = reconcileShare
        self.accessPeriod = accessPeriod
        self.paidUntilField = paidUntilField
        self.chats = chats
        self.mode = mode
        self.inviteTTL = inviteTTL
        self.removeUnentitled = removeUnentitled
        self.allowList = allowList
    }

    /// Reads the club's settings; nil without `CLUB_CHAT_ID`. Problems are recorded in `r`.
    public static func read(_ r: inout ConfigReader) -> ClubConfiguration? {
        guard let raw = r.optionalString("CLUB_CHAT_ID"), !raw.isEmpty else {
            for key in [
                "ACCESS_MODE", "INVITE_TTL", "CLUB_ALLOW_LIST", "CLUB_REMOVE_UNENTITLED", "ACCESS_PERIOD", "RECONCILE_INTERVAL",
                "RECONCILE_SHARE", "NOCODB_OFFER_FIELD",
            ] where r.optionalString(key) != nil {
                r.problem(key, "has no effect without CLUB_CHAT_ID")
            }
            return nil
        }
        var chats: [Int64] = []
        for piece in raw.split(separator: ",", omittingEmptySubsequences: false) {
            let text = piece.trimmingCharacters(in: .whitespaces)
            guard let id = Int64(text), id < 0 else {
                r.problem("CLUB_CHAT_ID", "expected negative chat ids (-100…) separated by commas, got '\(ConfigReader.shown(text))'")
                return nil
            }
            if !chats.contains(id) { chats.append(id) }
        }
        if chats.count > 20 { r.problem("CLUB_CHAT_ID", "at most 20 chats, got \(chats.count)") }
        let mode = AccessMode(
            rawValue: r.choice("ACCESS_MODE", default: "invite_link", allowed: AccessMode.allCases.map(\.rawValue))) ?? .inviteLink
        let ttl = r.duration("INVITE_TTL", default: .seconds(86400), min: .seconds(60), max: .seconds(30 * 86400))
        let remove = r.bool("CLUB_REMOVE_UNENTITLED", default: true)
        var allow: Set<Int64> = []
        if let list = r.optionalString("CLUB_ALLOW_LIST"), !list.isEmpty {
            for piece in list.split(separator: ",") {
                let text = piece.trimmingCharacters(in: .whitespaces)
                guard let id = Int64(text), id > 0 else {
                    r.problem("CLUB_ALLOW_LIST", "expected user ids separated by commas, got '\(ConfigReader.shown(text))'")
                    break
                }
                allow.insert(id)
            }
        }
        var period: Duration?
        if let text = r.optionalString("ACCESS_PERIOD"), !text.isEmpty {
            period = r.duration("ACCESS_PERIOD", default: .seconds(30 * 86400), min: .seconds(10), max: .seconds(3650 * 86400))
        }
        let field = r.optionalString("NOCODB_PAID_UNTIL_FIELD").flatMap { $0.isEmpty ? nil : $0 }
        let offerField = r.optionalString("NOCODB_OFFER_FIELD").flatMap { $0.isEmpty ? nil : $0 }
        var interval: Duration? = .seconds(86400)
        if let text = r.optionalString("RECONCILE_INTERVAL"), ["off", "no", "0"].contains(text.lowercased()) {
            interval = nil
        } else {
            interval = r.duration("RECONCILE_INTERVAL", default: .seconds(86400), min: .seconds(60), max: .seconds(30 * 86400))
        }
        let share = r.double("RECONCILE_SHARE", default: 0.1, range: 0.01...1)
        var club = ClubConfiguration(
            chats: chats, mode: mode, inviteTTL: ttl, removeUnentitled: remove, allowList: allow, accessPeriod: period,
            paidUntilField: field, reconcileInterval: interval, reconcileShare: share)
        club.offerField = offerField
        return club
    }
}
