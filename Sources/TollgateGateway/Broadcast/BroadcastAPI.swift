import Foundation
import Logging
import TollgateBroadcast
import TollgateCore
import TollgateIPC
import TollgateRedis

/// The operator's side of broadcasts (`tollgate broadcast …` over the gateway socket): campaigns
/// made in the outbox, their audience put in, their figures, pause, resume and cancel. Sending is
/// the ``BroadcastWorker``'s.
public struct BroadcastAPI: Sendable {
    let outbox: BroadcastOutbox
    let redis: RedisClientPool
    let keys: KeySpace
    let logger: Logger

    public init(outbox: BroadcastOutbox, redis: RedisClientPool, keys: KeySpace, logger: Logger) {
        self.outbox = outbox
        self.redis = redis
        self.keys = keys
        self.logger = logger
    }

    public func create(_ request: BroadcastCreate) async throws -> BroadcastCreate.Reply {
        // The router checked it already; a caller in code gets the same checks.
        try request.validate()
        var message = BroadcastMessage(
            text: request.text, onUncertain: request.onUncertain == "resend" ? .resend : .skip,
            button: request.button.map { ($0.text, $0.url) })
        if let media = request.media {
            guard let kind = BroadcastMessage.Media.Kind(rawValue: media.kind) else {
                throw BroadcastError(.invalid, "the media must be a photo, video or document")
            }
            message.media = BroadcastMessage.Media(kind: kind, source: media.source)
        }
        message.allowPaidBroadcast = request.allowPaidBroadcast == true
        try message.validate()
        if case .path(let path)? = message.media?.parsed { try Self.checkMediaFile(path) }
        if request.dryRun == true {
            let size = request.audience.kind == "ids" ? 0 : try await audience(request.audience, enqueueInto: nil)
            return BroadcastCreate.Reply(id: "", created: false, audience: size)
        }
        let id = "\(WallClock.epochMilliseconds())-\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        var fields = message.fields
        fields["audience"] = request.audience.kind
        if let state = request.audience.state { fields["audience_state"] = state }
        if let within = request.audience.withinMs { fields["audience_within_ms"] = String(within) }
        let made = try await outbox.create(id: id, fields: fields, startAtMs: request.startAtMs, idempotencyKey: request.idempotencyKey)
        guard request.audience.kind != "ids" else {
            return BroadcastCreate.Reply(id: made.id, created: made.created, audience: try await outbox.progress(made.id)?.total ?? 0)
        }
        // The gateway puts the audience in. A retried command (a crash half-way) finishes it:
        // putting someone in twice adds nothing.
        if try await outbox.progress(made.id)?.state == .preparing {
            _ = try await audience(request.audience, enqueueInto: made.id)
            try await outbox.seal(made.id)
            logger.notice("a broadcast was created", metadata: ["campaign": "\(made.id)", "audience": "\(request.audience.kind)"])
        }
        return BroadcastCreate.Reply(id: made.id, created: made.created, audience: try await outbox.progress(made.id)?.total ?? 0)
    }

    /// Telegram's upload limit for a bot.
    public static let maxUpload: Int64 = 50 << 20

    /// A media file named by path: a regular file this process can read, within the upload limit.
    static func checkMediaFile(_ path: String) throws(BroadcastError) {
        let shown = String(path.prefix(200))
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw BroadcastError(.invalid, "the media file \(shown) does not exist on the gateway's host")
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw BroadcastError(.invalid, "the media file \(shown) is not a regular file")
        }
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        guard size > 0, size <= maxUpload else {
            throw BroadcastError(.invalid, "the media file \(shown) has \(size) bytes; Telegram takes 1 byte to 50 MB from a bot")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw BroadcastError(.invalid, "the media file \(shown) cannot be read by the gateway")
        }
    }

    public func add(_ request: BroadcastAdd) async throws -> BroadcastAdd.Reply {
        try await requireIDs(request.id)
        return BroadcastAdd.Reply(added: try await outbox.enqueue(request.id, recipients: request.userIDs))
    }

    public func seal(_ request: BroadcastSeal) async throws -> BroadcastSummary {
        try await requireIDs(request.id)
        try await outbox.seal(request.id)
        logger.notice("a broadcast was created", metadata: ["campaign": "\(request.id)", "audience": "ids"])
        return try await summary(request.id)
    }

    public func list() async throws -> BroadcastList.Reply {
        var campaigns: [BroadcastSummary] = []
        for id in try await outbox.list(limit: 100) {
            if let s = try? await summary(id) { campaigns.append(s) }
        }
        return BroadcastList.Reply(campaigns: campaigns)
    }

    public func show(_ request: BroadcastShow) async throws -> BroadcastSummary { try await summary(request.id) }

    public func control(_ request: BroadcastControl) async throws -> BroadcastSummary {
        guard let action = BroadcastOutbox.Action(rawValue: request.action) else {
            throw IPCError(.invalidRequest, "'body.action' must be one of pause, resume, cancel")
        }
        try await outbox.change(request.id, to: action)
        logger.notice("a broadcast was changed", metadata: ["campaign": "\(request.id)", "action": "\(action.rawValue)"])
        return try await summary(request.id)
    }

    func requireIDs(_ id: String) async throws {
        guard try await outbox.progress(id) != nil else { throw BroadcastError(.notFound, "no campaign '\(id)'") }
        guard try await outbox.fields(id)["audience"] == "ids" else {
            throw BroadcastError(.conflict, "campaign '\(id)' is not an 'ids' campaign: its audience is put in by the gateway")
        }
    }

    func summary(_ id: String) async throws -> BroadcastSummary {
        guard let p = try await outbox.progress(id) else { throw BroadcastError(.notFound, "no campaign '\(id)'") }
        let text = try await outbox.fields(id)["text"] ?? ""
        return BroadcastSummary(
            id: id, state: p.state.rawValue, text: String(text.prefix(80)), total: p.total, queued: p.queued, leased: p.leased,
            sent: p.sent, suppressed: p.suppressed, uncertain: p.uncertain, failed: p.failed, dropped: p.dropped,
            createdAtMs: p.createdAtMs, startAtMs: p.startAtMs, firstSentAtMs: p.firstSentAtMs, lastSentAtMs: p.lastSentAtMs)
    }

    /// Walks the users the bot knows (their states, `SCAN`: each present for the whole walk seen
    /// at least once) — or for `expiring` the club's ledger — and counts those of `audience`,
    /// putting them in campaign `id` by chunks when given.
    func audience(_ audience: BroadcastAudience, enqueueInto id: String?) async throws -> Int {
        let expiring = audience.kind == "expiring"
        let prefix = expiring ? keys("club", "ent", "") : keys("gw", "user", "")
        let now = WallClock.epochMilliseconds()
        var cursor = "0"
        var count = 0
        repeat {
            let reply = try await redis.next().send(
                "SCAN", RedisArgument(cursor), "MATCH", RedisArgument(prefix + "*"), "COUNT", RedisArgument(BroadcastOutbox.chunk))
            let parts = reply.array ?? []
            cursor = parts.first?.string ?? "0"
            let names = (parts.count > 1 ? parts[1].array ?? [] : []).compactMap(\.string)
            var users: [Int64] = []
            if expiring, let within = audience.withinMs {
                // Entitled, with an end ahead within the window.
                let entries = try await redis.next().pipeline(names.map { ["HMGET", RedisArgument($0), "entitled", "expires_at"] })
                for (name, entry) in zip(names, entries) {
                    let fields = entry.array ?? []
                    guard fields.count == 2, fields[0].string == "1", let end = fields[1].string.flatMap({ Int64($0) }),
                        end > now, end <= now.saturatingPlus(within)
                    else { continue }
                    if let user = Int64(name.dropFirst(prefix.count)), user > 0 { users.append(user) }
                }
            } else if audience.kind == "state", let wanted = audience.state {
                let phases = try await redis.next().pipeline(names.map { ["HGET", RedisArgument($0), "phase"] })
                for (name, phase) in zip(names, phases) where phase.string == wanted {
                    if let user = Int64(name.dropFirst(prefix.count)), user > 0 { users.append(user) }
                }
            } else {
                users = names.compactMap { Int64($0.dropFirst(prefix.count)) }.filter { $0 > 0 }
            }
            if let id, !users.isEmpty {
                for start in stride(from: 0, to: users.count, by: BroadcastOutbox.chunk) {
                    count += try await outbox.enqueue(id, recipients: Array(users[start..<min(users.count, start + BroadcastOutbox.chunk)]))
                }
            } else {
                count += users.count
            }
        } while cursor != "0"
        return count
    }

    /// Maps what broadcast work throws to protocol errors.
    public static func call<T>(_ body: () async throws -> T) async throws(IPCError) -> T {
        do {
            return try await body()
        } catch let error as IPCError {
            throw error
        } catch let error as BroadcastError {
            switch error.code {
            case .notFound: throw IPCError(.notFound, error.message)
            case .conflict: throw IPCError(.conflict, error.message)
            case .invalid: throw IPCError(.invalidRequest, error.message)
            case .unavailable: throw IPCError(.unavailable, error.message, retryAfterMs: 1000)
            }
        } catch let error as RedisError {
            throw IPCError(.unavailable, "redis: \(error.code.rawValue)", retryAfterMs: 1000)
        } catch {
            throw IPCError(.internal, "\(type(of: error))")
        }
    }
}
