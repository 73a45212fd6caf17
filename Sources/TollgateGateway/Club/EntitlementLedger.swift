import Foundation
import TollgateCore
import TollgateRedis

/// Who may be inside the club: one Redis hash per user (`<prefix>:club:ent:<user>`), changed only
/// through the methods here, each one atomic and idempotent — a replay, a second gateway or a
/// restart never grants twice or revokes wrongly.
///
/// Fields: `entitled` (`1`/`0`), `source` (`nocodb:<row>`, `manual`), `grant` (the id of the
/// grant in force: a replay of the same grant changes nothing), `granted_at` and `expires_at`
/// (Unix ms; 0: no end), `ended_at` (when a period last ended), `link:<chat>` and `link_exp:<chat>` (the user's personal
/// link and its expiry, Unix s), `member:<chat>` (the membership as last seen), `reinvited` (the
/// grant a reconciliation last sent a fresh link for), `offer` (the flow's offer the grant is for:
/// its club chats; absent: every club chat), `v` (bumped by every change).
public struct EntitlementLedger: Sendable {
    let redis: RedisClientPool
    let keys: KeySpace

    public init(redis: RedisClientPool, keys: KeySpace) {
        self.redis = redis
        self.keys = keys
    }

    /// One user's record.
    public struct Entry: Sendable, Equatable {
        public var entitled = false
        public var source: String?
        /// The id of the grant in force (``EntitlementLedger/grant(_:source:grantID:term:)``).
        public var grantID: String?
        public var grantedAtMs: Int64?
        /// Unix ms; nil: no end.
        public var expiresAtMs: Int64?
        /// Personal links by chat.
        public var links: [Int64: PersonalLink] = [:]
        /// Membership by chat, as last seen (`member`, `left`, `kicked`, …).
        public var membership: [Int64: String] = [:]
        public var version: Int64 = 0
        /// The grant for which a reconciliation last sent a fresh link (once per grant).
        public var reinvitedGrant: String?
        /// The offer (flow `topics`) the grant in force is for; nil: the whole club.
        public var offer: String?

        public init() {}

        /// The NocoDB row the grant came from (`source` `nocodb:<row>`), if it came from one.
        public var recordID: Int64? {
            guard let source, source.hasPrefix("nocodb:") else { return nil }
            return Int64(source.dropFirst(7)).flatMap { $0 > 0 ? $0 : nil }
        }

        /// Entitled at `nowMs` (granted, not revoked, not expired).
        public func isEntitled(at nowMs: Int64) -> Bool {
            entitled && (expiresAtMs.map { $0 > nowMs } ?? true)
        }

    }

    /// A user's personal invite link to one chat.
    public struct PersonalLink: Sendable, Equatable {
        public var link: String
        /// Unix seconds.
        public var expires: Int64

        public init(link: String, expires: Int64) {
            self.link = link
            self.expires = expires
        }
    }

    func key(_ user: Int64) -> String { keys("club", "ent", String(user)) }

    public func entry(_ user: Int64) async throws(RedisError) -> Entry {
        let reply = try await redis.next().send("HGETALL", RedisArgument(key(user)))
        var entry = Entry()
        guard let items = reply.array else { return entry }
        var links: [Int64: String] = [:]
        var expiries: [Int64: Int64] = [:]
        var index = 0
        while index + 1 < items.count {
            defer { index += 2 }
            guard let name = items[index].string, let value = items[index + 1].string else { continue }
            switch name {
            case "entitled": entry.entitled = value == "1"
            case "source": entry.source = value
            case "grant": entry.grantID = value
            case "granted_at": entry.grantedAtMs = Int64(value)
            case "expires_at": entry.expiresAtMs = Int64(value).flatMap { $0 == 0 ? nil : $0 }
            case "v": entry.version = Int64(value) ?? 0
            case "reinvited": entry.reinvitedGrant = value
            case "offer": entry.offer = value.isEmpty ? nil : String(value.prefix(32))
            default:
                // Per-chat fields; a value this version cannot read is left out, never a trap.
                if let chat = Self.chat(of: name, prefix: "link:") {
                    links[chat] = value
                } else if let chat = Self.chat(of: name, prefix: "link_exp:"), let at = Int64(value) {
                    expiries[chat] = at
                } else if let chat = Self.chat(of: name, prefix: "member:") {
                    entry.membership[chat] = String(value.prefix(20))
                }
            }
        }
        for (chat, link) in links { entry.links[chat] = PersonalLink(link: link, expires: expiries[chat] ?? 0) }
        return entry
    }

    static func chat(of field: String, prefix: String) -> Int64? {
        guard field.hasPrefix(prefix) else { return nil }
        return Int64(field.dropFirst(prefix.count))
    }

    /// How long a grant gives access.
    public enum Term: Sendable, Equatable {
        /// No end.
        case forever
        /// Until this instant (Unix ms): the row's expiry column.
        case until(Int64)
        /// One period more: from the current end while access runs, else from now (Redis clock).
        case period(Duration)
    }

    /// What a grant does to the offer it is for.
    public enum OfferChange: Sendable, Equatable {
        /// The grant is for this offer (a flow `topics` id; nil: the whole club).
        case set(String?)
        /// The offer in force stays (a renewal, an operator's grant without `--offer`).
        case keep

        /// The script's argument: `=<id>`, `=` (the whole club) or `keep`.
        var argument: String {
            switch self {
            case .set(let id): "=" + (id ?? "")
            case .keep: "keep"
            }
        }
    }

    /// What a grant left.
    public struct Grant: Sendable, Equatable {
        public var version: Int64
        /// The end of access now (Unix ms); nil: no end.
        public var untilMs: Int64?
        /// False when this grant was carried out before (a replay): nothing changed.
        public var changed: Bool
    }

    /// Grants access from `source` for `term`, once per `grantID` (a payment's confirmation, a
    /// renewal, a row's date): granting again with the same id changes nothing — also after a
    /// later revoke, so a replayed confirmation never re-opens a door that was closed since.
    /// `offer` is what the grant opens (``OfferChange``), changed in the same atomic step.
    public func grant(
        _ user: Int64, source: String, grantID: String, term: Term, offer: OfferChange
    ) async throws(RedisError) -> Grant {
        let (kind, value): (String, Int64) =
            switch term {
            case .forever: ("forever", 0)
            case .until(let ms): ("until", ms)
            case .period(let d): ("period", d.milliseconds)
            }
        let reply = try await redis.next().evaluate(
            Self.grantScript, keys: [RedisArgument(key(user))],
            args: [
                RedisArgument(source), RedisArgument(grantID), RedisArgument(kind), RedisArgument(value),
                RedisArgument(offer.argument),
            ])
        let items = reply.array ?? []
        let until = items.count > 1 ? (items[1].int ?? 0) : 0
        return Grant(
            version: items.first?.int ?? 0, untilMs: until == 0 ? nil : until, changed: items.count > 2 && items[2].int == 1)
    }

    /// Ends the paid period ending at `untilMs`: the user is no longer entitled — unless the
    /// period was renewed or changed meanwhile (its end is not `untilMs` any more), or access was
    /// taken away before. Returns whether this call ended it.
    public func endPeriod(_ user: Int64, untilMs: Int64) async throws(RedisError) -> Bool {
        let reply = try await redis.next().evaluate(
            Self.endPeriodScript, keys: [RedisArgument(key(user))], args: [RedisArgument(untilMs)])
        return reply.int == 1
    }

    /// Takes access away (a lapse, a refund, an operator). Idempotent.
    @discardableResult
    public func revoke(_ user: Int64) async throws(RedisError) -> Int64 {
        let reply = try await redis.next().evaluate(Self.revokeScript, keys: [RedisArgument(key(user))], args: [])
        return reply.int ?? 0
    }

    /// Installs `link` as the user's personal link to `chat` unless a live one (expiring after
    /// `liveAfter`, Unix s) is already there; returns the link in force — `link` or the one kept
    /// (the caller then revokes the one it made: two concurrent issuers leave one link).
    public func installLink(
        _ user: Int64, chat: Int64, link: String, expires: Int64, liveAfter: Int64
    ) async throws(RedisError) -> String {
        let reply = try await redis.next().evaluate(
            Self.linkScript, keys: [RedisArgument(key(user))],
            args: [RedisArgument(String(chat)), RedisArgument(link), RedisArgument(expires), RedisArgument(liveAfter)])
        return reply.string ?? link
    }

    /// Forgets the user's personal link to `chat` if it is still `link` (used, revoked, replaced).
    public func dropLink(_ user: Int64, chat: Int64, link: String) async throws(RedisError) {
        _ = try await redis.next().evaluate(
            Self.dropLinkScript, keys: [RedisArgument(key(user))], args: [RedisArgument(String(chat)), RedisArgument(link)])
    }

    /// Records that a reconciliation sent `user` a fresh link for the grant `grantID`.
    public func markReinvited(_ user: Int64, grantID: String) async throws(RedisError) {
        try await redis.next().send("HSET", RedisArgument(key(user)), "reinvited", RedisArgument(grantID))
    }

    /// One page of the users the ledger knows (Redis `SCAN`: a user present for the whole scan is
    /// seen at least once, perhaps twice). Start with cursor `"0"`; the scan is over when the
    /// returned cursor is `"0"` again.
    public func scan(cursor: String, count: Int = 500) async throws(RedisError) -> (cursor: String, users: [Int64]) {
        let prefix = keys("club", "ent", "")
        let reply = try await redis.next().send(
            "SCAN", RedisArgument(cursor), "MATCH", RedisArgument(prefix + "*"), "COUNT", RedisArgument(count))
        let parts = reply.array ?? []
        let next = parts.first?.string ?? "0"
        let names = parts.count > 1 ? (parts[1].array ?? []) : []
        let users = names.compactMap { $0.string.flatMap { name in name.hasPrefix(prefix) ? Int64(name.dropFirst(prefix.count)) : nil } }
        return (next, users.filter { $0 > 0 })
    }

    /// Records the membership last seen in `chat`.
    public func recordMembership(_ user: Int64, chat: Int64, status: String) async throws(RedisError) {
        try await redis.next().send("HSET", RedisArgument(key(user)), RedisArgument("member:\(chat)"), RedisArgument(status))
    }

    /// KEYS: entry; ARGV: source, grant id, term kind (`forever`, `until`, `period`), its value
    /// (ms), offer (`=<id>`; `=`: the whole club; `keep`: unchanged). Returns {version, until ms
    /// (0: none), changed 0/1}.
    static let grantScript = RedisScript(
        name: "club-grant",
        source: """
            local e = redis.call('HMGET', KEYS[1], 'entitled', 'grant', 'expires_at', 'v')
            if e[2] == ARGV[2] then return {tonumber(e[4] or '0'), tonumber(e[3] or '0'), 0} end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local cur = tonumber(e[3] or '0')
            local running = e[1] == '1' and (cur == 0 or cur > now)
            local finish = 0
            if ARGV[3] == 'until' then
              finish = tonumber(ARGV[4])
            elseif ARGV[3] == 'period' then
              local base = now
              if running and cur > now then base = cur end
              finish = base + tonumber(ARGV[4])
            end
            redis.call('HSET', KEYS[1], 'entitled', '1', 'source', ARGV[1], 'grant', ARGV[2], 'expires_at', finish)
            if ARGV[5] == '=' then
              redis.call('HDEL', KEYS[1], 'offer')
            elseif ARGV[5] ~= 'keep' then
              redis.call('HSET', KEYS[1], 'offer', string.sub(ARGV[5], 2))
            end
            if not running then redis.call('HSET', KEYS[1], 'granted_at', now) end
            return {redis.call('HINCRBY', KEYS[1], 'v', 1), finish, 1}
            """)

    /// KEYS: entry; ARGV: the period's end (ms). Returns 1 when it ended the period now.
    static let endPeriodScript = RedisScript(
        name: "club-end-period",
        source: """
            local e = redis.call('HMGET', KEYS[1], 'entitled', 'expires_at')
            if e[1] ~= '1' or e[2] ~= ARGV[1] then return 0 end
            local t = redis.call('TIME')
            redis.call('HSET', KEYS[1], 'entitled', '0', 'ended_at', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
            redis.call('HINCRBY', KEYS[1], 'v', 1)
            return 1
            """)

    /// KEYS: entry. Returns the version.
    static let revokeScript = RedisScript(
        name: "club-revoke",
        source: """
            local e = redis.call('HMGET', KEYS[1], 'entitled', 'v')
            if e[1] ~= '1' then return tonumber(e[2] or '0') end
            redis.call('HSET', KEYS[1], 'entitled', '0')
            return redis.call('HINCRBY', KEYS[1], 'v', 1)
            """)

    /// KEYS: entry; ARGV: chat, link, expires s, live-after s. Returns the link in force.
    static let linkScript = RedisScript(
        name: "club-link",
        source: """
            local cur = redis.call('HMGET', KEYS[1], 'link:' .. ARGV[1], 'link_exp:' .. ARGV[1])
            if cur[1] and tonumber(cur[2] or '0') > tonumber(ARGV[4]) then return cur[1] end
            redis.call('HSET', KEYS[1], 'link:' .. ARGV[1], ARGV[2], 'link_exp:' .. ARGV[1], ARGV[3])
            return ARGV[2]
            """)

    /// KEYS: entry; ARGV: chat, link.
    static let dropLinkScript = RedisScript(
        name: "club-drop-link",
        source: """
            if redis.call('HGET', KEYS[1], 'link:' .. ARGV[1]) == ARGV[2] then
              redis.call('HDEL', KEYS[1], 'link:' .. ARGV[1], 'link_exp:' .. ARGV[1])
            end
            return 1
            """)
}
