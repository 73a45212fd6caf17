import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TollgateCoordination
import TollgateCore
import TollgateIPC
import TollgateRedis
import TollgateTelegram

/// Compares the entitlement ledger with Telegram and NocoDB and fixes the drift: on the leading
/// gateway every `RECONCILE_INTERVAL`, and on request (`tollgate club reconcile`).
///
/// Telegram lets a bot ask about one member at a time (`getChatMember`) but never list a chat, so a
/// reconciliation walks the people the ledger knows — every payer, and everyone the door ever saw
/// join, ask or leave — and for each club chat:
/// - inside without a right (a lapse job lost, a removal that failed, `CLUB_REMOVE_UNENTITLED`
///   off before): their NocoDB row is read first; a row that says paid keeps them inside (the
///   payment watch confirms it; reported), otherwise they are shown out;
/// - entitled, outside every chat and without a live link (a link that expired unused, a member
///   who left): sent a fresh personal link through the flow (`access_reinvite`), once per grant;
/// - a period that ended moments ago is left to its own lapse job, which reads the row for a
///   renewal first.
///
/// Its Telegram calls take slots of the background budget (``OutboundRateLimiter/acquireBackground()``),
/// never the bot's message slots, so replies to users never wait behind it. One runs at a time
/// across gateways (a run claim in Redis); the last report is kept in Redis for `club status`.
public final class ClubReconciler: Service, Sendable {
    public struct Counters: Sendable, Equatable {
        public var runs = 0
        public var removed = 0
        public var reinvited = 0
        public var keptPaid = 0
        public var errors = 0
    }

    let door: ClubDoor
    let runner: FlowRunner
    let directory: any UserDirectory
    let limiter: any OutboundRateLimiter
    let leadership: any Leadership
    let redis: RedisClientPool
    let keys: KeySpace
    let claims: RunClaims
    let logger: Logger
    private let counters = Mutex(Counters())

    /// A period that ended less than this long ago is its lapse job's to close.
    static let lapseGrace: Int64 = 3_600_000

    public init(
        door: ClubDoor, runner: FlowRunner, directory: any UserDirectory, limiter: any OutboundRateLimiter,
        leadership: any Leadership, redis: RedisClientPool, keys: KeySpace, logger: Logger
    ) {
        self.door = door
        self.runner = runner
        self.directory = directory
        self.limiter = limiter
        self.leadership = leadership
        self.redis = redis
        self.keys = keys
        self.claims = RunClaims(redis: redis, keys: keys, ttl: .seconds(30), logger: logger)
        self.logger = logger
    }

    public var stats: Counters { counters.withLock { $0 } }
    var config: ClubConfiguration { door.config }
    var ledger: EntitlementLedger { door.ledger }
    var reportKey: RedisArgument { RedisArgument(keys("club", "reconcile", "last")) }
    var nextKey: RedisArgument { RedisArgument(keys("club", "reconcile", "next")) }

    // MARK: The schedule

    /// While this gateway leads: waits for the next scheduled reconciliation (kept in Redis, so a
    /// restart or a new leader keeps the rhythm) and runs it.
    public func run() async throws {
        guard let interval = config.reconcileInterval else {
            // Only on request: nothing to run, but a service that returns would stop the process.
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            await self.leadership.whileLeading { _ in await self.schedule(every: interval) }
        }
    }

    func schedule(every interval: Duration) async {
        while !Task.isCancelled {
            do {
                let now = WallClock.epochMilliseconds()
                // The first leader ever starts the rhythm one interval ahead.
                _ = try await redis.next().send("SET", nextKey, RedisArgument(now + interval.milliseconds), "NX")
                let next = try await redis.next().send("GET", nextKey).string.flatMap { Int64($0) } ?? now
                if next > now {
                    try await Task.sleep(for: .milliseconds(min(next - now, 60_000)))
                    continue
                }
                if try await reconcile(trigger: "schedule", dryRun: false) == nil {
                    try await Task.sleep(for: .seconds(60))
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("the scheduled reconciliation could not run; trying again in a minute", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(60))
            }
        }
    }

    // MARK: A reconciliation

    /// Reconciles every user the ledger knows; nil when another reconciliation runs.
    ///
    /// - Throws: `RedisError` when the ledger cannot be read (the report so far is lost; nothing
    ///   done is undone, and a later run finds the rest).
    public func reconcile(trigger: String, dryRun: Bool) async throws -> ReconcileReport? {
        try await claims.whileHolding("club:reconcile") {
            let started = WallClock.epochMilliseconds()
            var report = ReconcileReport(trigger: trigger, dryRun: dryRun, startedAtMs: started)
            var cursor = "0"
            var seen = Set<Int64>()
            var failingInARow = 0
            repeat {
                let page = try await ledger.scan(cursor: cursor)
                cursor = page.cursor
                for user in page.users where seen.insert(user).inserted {
                    try Task.checkCancellation()
                    do {
                        try await check(user, dryRun: dryRun, report: &report)
                        failingInARow = 0
                    } catch let error as RedisError {
                        // One user's record (a key of another type, a blip): skipped; Redis
                        // failing for twenty users in a row ends the run.
                        report.errors += 1
                        failingInARow += 1
                        if failingInARow >= 20 { throw error }
                    } catch let error as TelegramError {
                        // Telegram refused or failed this user's fix even after the retries: left
                        // as it is, checked again next time. (Redis trouble ends the run.)
                        logger.warning(
                            "reconciliation could not fix a member", metadata: ["user": "\(user)", "error": "\(error.code.rawValue)"])
                        report.errors += 1
                    }
                }
            } while cursor != "0"
            report.finishedAtMs = WallClock.epochMilliseconds()
            if !dryRun, let interval = config.reconcileInterval {
                _ = try await redis.next().send("SET", nextKey, RedisArgument(started + interval.milliseconds))
            }
            _ = try await redis.next().send("SET", reportKey, RedisArgument(String(decoding: try IPCCoding.encode(report), as: UTF8.self)))
            counters.withLock {
                $0.runs += 1
                if !dryRun {
                    $0.removed += report.removed
                    $0.reinvited += report.reinvited
                }
                $0.keptPaid += report.keptPaid
                $0.errors += report.errors
            }
            logger.notice(
                "club reconciled",
                metadata: [
                    "trigger": "\(trigger)", "dry_run": "\(dryRun)", "scanned": "\(report.scanned)", "inside": "\(report.inside)",
                    "inside_unentitled": "\(report.insideUnentitled)", "stranded": "\(report.strandedPayers)",
                    "removed": "\(report.removed)", "reinvited": "\(report.reinvited)", "kept_paid": "\(report.keptPaid)",
                    "errors": "\(report.errors)", "ms": "\(report.finishedAtMs - started)",
                ])
            return report
        }
    }

    /// What one user's check found in one chat.
    enum Seen {
        case inside(admin: Bool)
        case outside(banned: Bool)
    }

    func check(_ user: Int64, dryRun: Bool, report: inout ReconcileReport) async throws {
        report.scanned += 1
        let entry = try await ledger.entry(user)
        let now = WallClock.epochMilliseconds()
        let allowed = config.allowList.contains(user)
        let entitled = allowed || entry.isEntitled(at: now)
        if !entry.isEntitled(at: now), ClubDoor.mayStay(entry, nowMs: now) {
            // A period that ended within the hour: its lapse job (which reads the row) decides.
            report.pendingLapses += 1
            return
        }
        if entitled { report.entitled += 1 }
        var seen: [Int64: Seen] = [:]
        for chat in config.chats {
            report.checked += 1
            let answer: Result<ChatMember, TelegramError>
            do {
                answer = .success(
                    try await retrying(chat: chat) { () async throws(TelegramError) in
                        try await self.door.telegram.getChatMember(chatID: chat, userID: user)
                    })
            } catch let error as TelegramError {
                answer = .failure(error)
            }
            switch answer {
            case .success(let member):
                seen[chat] = member.isInside ? .inside(admin: member.isAdministrator || member.user.isBot) : .outside(banned: member.status.text == "kicked")
                if !dryRun { try await ledger.recordMembership(user, chat: chat, status: Self.shownStatus(member)) }
            case .failure(let error) where ClubDoor.isUserNotFound(error):
                seen[chat] = .outside(banned: false)
            case .failure(let error):
                logger.warning("reconciliation could not check a member", metadata: ["chat": "\(chat)", "user": "\(user)", "error": "\(error.code.rawValue)"])
                report.errors += 1
                return
            }
        }
        let insideChats = seen.compactMap { chat, s -> (Int64, Bool)? in if case .inside(let admin) = s { (chat, admin) } else { nil } }
        if !insideChats.isEmpty { report.inside += 1 }
        // The chats their right opens: all for the allow-list, their offer's for a grant.
        let rightChats = Set(allowed ? config.chats : entitled ? config.chats(of: entry.offer) : [])
        if entitled, !allowed, config.isUnknown(offer: entry.offer) {
            logger.warning(
                "a grant names an offer the flow does not list: it opens no chat (restore the offer's id in the flow file, or grant again)",
                metadata: ["user": "\(user)", "offer": "\(entry.offer ?? "")"])
        }

        if entitled {
            // Inside a chat of another offer (someone else's link): shown out of that one.
            let intruding = insideChats.filter { !$0.1 && !rightChats.contains($0.0) }.map(\.0)
            if !intruding.isEmpty {
                report.insideUnentitled += 1
                if config.removeUnentitled {
                    if dryRun {
                        report.removed += 1
                    } else if try await ledger.entry(user).version == entry.version {
                        try await showOut(user, of: intruding)
                        report.removed += 1
                    }
                }
            }
        }
        if !entitled {
            var intruding = insideChats.filter { !$0.1 }.map(\.0)
            guard !intruding.isEmpty else { return }
            report.insideUnentitled += 1
            // The row has the last word before anyone is removed: a payment the ledger has not
            // heard of yet (or lost) keeps them inside — in the chats of the offer it names, with
            // an offer column (all of them without one).
            if let row = Self.row(of: entry.source) {
                switch await Self.paymentRecord(directory, row) {
                case .success(let record?) where isPaid(record, now: now):
                    let paidFor = AccessTerms.rowOffer(config, record: record).map { Set(config.chats(of: $0)) }
                    let outside = paidFor.map { chats in intruding.filter { !chats.contains($0) } } ?? []
                    report.keptPaid += 1
                    logger.warning(
                        "a member without a ledger right is inside, but their row says paid: left inside",
                        metadata: ["user": "\(user)", "row": "\(row)", "outside_the_row_offer": "\(outside.count)"])
                    guard !outside.isEmpty else { return }
                    intruding = outside
                case .success: break
                case .failure:
                    report.errors += 1
                    return
                }
            }
            guard config.removeUnentitled else { return }
            if dryRun {
                report.removed += 1
                return
            }
            // A payment confirmed (or a grant made) while this user was being checked wins.
            let fresh = try await ledger.entry(user)
            guard fresh.version == entry.version, !fresh.isEntitled(at: WallClock.epochMilliseconds()) else { return }
            try await showOut(user, of: intruding)
            report.removed += 1
            return
        }

        // Entitled: stranded when in none of their chats (not banned there by an administrator)
        // and without a live link to get in.
        let banned = seen.contains { chat, s in if case .outside(true) = s { rightChats.contains(chat) } else { false } }
        let insideTheirs = insideChats.contains { rightChats.contains($0.0) }
        guard Self.isStranded(entry, inside: insideTheirs, banned: banned, chats: rightChats, mode: config.mode, nowMs: now) else { return }
        let grant = entry.grantID ?? "grant"
        report.strandedPayers += 1
        if dryRun { return }
        // Still entitled by the same grant (not revoked or lapsed meanwhile)?
        let fresh = try await ledger.entry(user)
        guard fresh.version == entry.version, fresh.isEntitled(at: WallClock.epochMilliseconds()) else { return }
        // A unit of its own per run: a re-invite that could not be sent (retry) is made afresh
        // next time, with a link that is live then — never a replay of an expired one.
        let result = try await runner.run(
            scope: "c:reinvite:\(user):\(grant):\(report.startedAtMs)", event: .reinvite(grantID: grant),
            user: FlowUser(userID: user, chatID: user, firstName: ""))
        switch result {
        case .done, .alreadyDone, .skipped, .failed:
            // Skipped or failed (suppressed, a link Telegram refused): once per grant all the same.
            try await ledger.markReinvited(user, grantID: grant)
            if case .done = result { report.reinvited += 1 }
        case .retry, .deferred:
            report.errors += 1
        }
    }

    /// Shows `user` out of `chats` (banned and unbanned at once, so they can pay and come back).
    func showOut(_ user: Int64, of chats: [Int64]) async throws {
        for chat in chats {
            _ = try await retrying(chat: chat) { () async throws(TelegramError) in
                try await self.door.telegram.banChatMember(chatID: chat, userID: user)
            }
            _ = try await retrying(chat: chat) { () async throws(TelegramError) in
                try await self.door.telegram.unbanChatMember(chatID: chat, userID: user, onlyIfBanned: true)
            }
            try await ledger.recordMembership(user, chat: chat, status: "left")
        }
        door.count(\.removedUnentitled)
        logger.notice("reconciliation removed a member who is not entitled", metadata: ["user": "\(user)", "chats": "\(chats.count)"])
    }

    /// One Telegram call of the reconciliation on the background budget, tried again after a
    /// 429 (its `retry_after`), a 5xx or a timeout — up to four times, 0.5 s, 1 s and 2 s apart.
    /// A 429's `retry_after` is shared through the limiter, so every gateway holds back.
    func retrying<T: Sendable>(chat: Int64, _ call: () async throws(TelegramError) -> T) async throws -> T {
        var attempt = 0
        while true {
            try await limiter.acquireBackground()
            switch await Self.result(call) {
            case .success(let value): return value
            case .failure(let error):
                attempt += 1
                guard error.isRetryable, attempt < 4 else { throw error }
                if error.code == .rateLimited, let wait = error.retryAfter { try? await limiter.pushBack(chatID: chat, by: wait) }
                try await Task.sleep(for: error.retryAfter ?? .milliseconds(250 << attempt))
            }
        }
    }

    /// The membership recorded for what Telegram said: a restricted user who is not a member
    /// is outside.
    static func shownStatus(_ member: ChatMember) -> String {
        member.isInside || member.status.text == "kicked" ? member.status.text : "left"
    }

    /// An entitled user who is in none of their chats (`chats`: those their offer opens), not
    /// banned there by an administrator, holds no live personal link to one of them and was not
    /// re-invited for this grant yet. The same rule for a reconciliation (membership from
    /// Telegram) and `club status` (membership as last seen).
    public static func isStranded(
        _ entry: EntitlementLedger.Entry, inside: Bool, banned: Bool, chats: Set<Int64>, mode: ClubConfiguration.AccessMode,
        nowMs: Int64
    ) -> Bool {
        guard entry.isEntitled(at: nowMs), !inside, !banned, !chats.isEmpty else { return false }
        let live =
            mode == .inviteLink && entry.links.contains { chats.contains($0.key) && $0.value.expires > nowMs / 1000 + ClubDoor.reuseMargin }
        return !live && entry.reinvitedGrant != (entry.grantID ?? "grant")
    }

    static func result<T>(_ body: () async throws(TelegramError) -> T) async -> Result<T, TelegramError> {
        do throws(TelegramError) {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }

    func isPaid(_ record: PaymentRecord, now: Int64) -> Bool {
        if config.paidUntilField != nil { return record.paid && (record.paidUntilMs ?? 0) > now }
        return record.paid
    }

    static func row(of source: String?) -> Int64? {
        guard let source, source.hasPrefix("nocodb:") else { return nil }
        return Int64(source.dropFirst(7))
    }

    static func paymentRecord(_ directory: any UserDirectory, _ row: Int64) async -> Result<PaymentRecord?, any Error> {
        do { return .success(try await directory.paymentRecord(row)) } catch { return .failure(error) }
    }

    // MARK: Operators

    /// The ledger's figures from the membership last seen, and the last report.
    public func status() async throws -> ClubStatus.Reply {
        let now = WallClock.epochMilliseconds()
        var known = 0
        var entitled = 0
        var members = 0
        var intruders = 0
        var stranded = 0
        var cursor = "0"
        var seen = Set<Int64>()
        repeat {
            let page = try await ledger.scan(cursor: cursor)
            cursor = page.cursor
            for user in page.users where seen.insert(user).inserted {
                let entry = try await ledger.entry(user)
                known += 1
                let allowed = config.allowList.contains(user)
                let right = allowed || entry.isEntitled(at: now)
                let rightChats = Set(allowed ? config.chats : right ? config.chats(of: entry.offer) : [])
                let isIn = { (status: String) in ["member", "administrator", "creator", "restricted"].contains(status) }
                let inside = entry.membership.values.contains(where: isIn)
                if right { entitled += 1 }
                if inside { members += 1 }
                let admin = entry.membership.values.contains(where: { $0 == "administrator" || $0 == "creator" })
                if !admin && entry.membership.contains(where: { isIn($0.value) && !rightChats.contains($0.key) }) { intruders += 1 }
                let insideTheirs = entry.membership.contains { isIn($0.value) && rightChats.contains($0.key) }
                let banned = entry.membership.contains { $0.value == "kicked" && rightChats.contains($0.key) }
                if Self.isStranded(entry, inside: insideTheirs, banned: banned, chats: rightChats, mode: config.mode, nowMs: now) { stranded += 1 }
            }
        } while cursor != "0"
        let last = try await redis.next().send("GET", reportKey).string.flatMap {
            try? IPCCoding.decode(ReconcileReport.self, from: Array($0.utf8))
        }
        let next = config.reconcileInterval == nil ? nil : try await redis.next().send("GET", nextKey).string.flatMap { Int64($0) }
        let periods = config.paidUntilField != nil ? "column" : config.accessPeriod != nil ? "period" : "none"
        return ClubStatus.Reply(
            chats: config.chats, mode: config.mode.rawValue, periods: periods, known: known, entitled: entitled, members: members,
            insideUnentitled: intruders, strandedPayers: stranded, lastReconcile: last, nextReconcileAtMs: next)
    }

    static func member(_ user: Int64, _ entry: EntitlementLedger.Entry) -> ClubMember {
        ClubMember(
            userID: user, entitled: entry.isEntitled(at: WallClock.epochMilliseconds()), source: entry.source,
            grantedAtMs: entry.grantedAtMs, expiresAtMs: entry.expiresAtMs,
            membership: Dictionary(uniqueKeysWithValues: entry.membership.map { (String($0.key), $0.value) }), links: entry.links.count,
            offer: entry.offer)
    }

    /// A manual grant through the ledger (source `manual`), answered with the user's links.
    public func grant(_ request: ClubGrant) async throws -> ClubGrant.Reply {
        if request.untilMs != nil || request.periodMs != nil {
            guard config.hasPeriods else {
                throw IPCError(
                    .invalidRequest,
                    "a grant with an end needs access periods (ACCESS_PERIOD or NOCODB_PAID_UNTIL_FIELD): without them nothing ends it")
            }
            if let until = request.untilMs, until <= WallClock.epochMilliseconds() {
                throw IPCError(.invalidRequest, "'body.until_ms' is in the past")
            }
        }
        let term: EntitlementLedger.Term =
            if let until = request.untilMs { .until(until) } else if let period = request.periodMs { .period(.milliseconds(period)) } else {
                .forever
            }
        let offer: EntitlementLedger.OfferChange
        switch request.offer {
        case nil:
            // The offer held stays while its grant runs and the flow still lists it; otherwise the
            // operator must say which (with offers), or it is the whole club (without).
            let held = try await ledger.entry(request.userID)
            let inForce = held.isEntitled(at: WallClock.epochMilliseconds()) && !config.isUnknown(offer: held.offer)
            if inForce {
                offer = .keep
            } else if config.offers.isEmpty {
                offer = .set(nil)
            } else {
                throw IPCError(
                    .invalidRequest,
                    "the user holds no offer in force: name one with 'body.offer' (the flow lists \(config.offers.keys.sorted().joined(separator: ", "))), or '' for the whole club")
            }
        case ""?: offer = .set(nil)
        case let id?:
            guard config.offers[id] != nil else {
                let known = config.offers.keys.sorted()
                throw IPCError(
                    .invalidRequest,
                    known.isEmpty
                        ? "'body.offer' names '\(id)', but the flow lists no offers (topics)"
                        : "'body.offer' names '\(id)', which the flow does not list (it lists \(known.joined(separator: ", ")))")
            }
            offer = .set(id)
        }
        let id = "manual:\(WallClock.epochMilliseconds()):\(UInt32.random(in: 0...UInt32.max))"
        let granted = try await ledger.grant(request.userID, source: "manual", grantID: id, term: term, offer: offer)
        // Its end is a lapse like a payment's: reminders (the offer's), then shown out, by durable jobs.
        if let until = granted.untilMs {
            let held = try await ledger.entry(request.userID).offer
            try await runner.schedulePeriod(
                of: FlowUser(userID: request.userID, chatID: request.userID, firstName: ""), untilMs: until, flow: runner.flow.offer(held))
        }
        let links = try await door.invites(for: request.userID)
        logger.notice("an operator granted access", metadata: ["user": "\(request.userID)"])
        return ClubGrant.Reply(member: Self.member(request.userID, try await ledger.entry(request.userID)), links: links)
    }

    /// A manual revoke: not entitled, shown out, links revoked.
    public func revoke(_ request: ClubRevoke) async throws -> ClubRevoke.Reply {
        try await ledger.revoke(request.userID)
        let removed = try await door.showOut(request.userID)
        logger.notice("an operator revoked access", metadata: ["user": "\(request.userID)", "chats": "\(removed)"])
        return ClubRevoke.Reply(member: Self.member(request.userID, try await ledger.entry(request.userID)), removedFrom: removed)
    }
}
