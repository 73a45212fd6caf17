import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TollgateCoordination
import TollgateCore
import TollgateIPC
import TollgateNocoDB
import TollgateRedis
import TollgateRuntime
import TollgateTelegram

/// Handles recorded updates (``UpdateJournal``) while this gateway leads: one chat's updates
/// strictly in order, different chats concurrently (``Settings/workers``).
///
/// An entry is acknowledged only after its flow run finished; until then it stays pending in the
/// stream, and after a crash or a change of leader it is read again and replayed — the flow's
/// effect journal makes the replay repeat nothing. An update that fails is retried with backoff,
/// holding back its chat only (a chat's later updates never overtake it). Only a permanent cause
/// (``UpdateFailure``) sets it aside (dead-lettered) after ``Settings/maxAttempts``; a Telegram 5xx
/// or 429, a Redis or poller outage is waited out however long it lasts.
///
/// Graceful shutdown: no new entries are read, the ones in hand finish, the rest stay pending.
public final class UpdateProcessor: Service, Sendable {
    public struct Settings: Sendable {
        public var workers: Int
        /// Entries read ahead of the workers at most.
        public var maxInFlight: Int
        public var maxAttempts: Int
        public var retryBase: Duration
        public var retryCap: Duration
        /// How long one read waits for new entries (also the heartbeat period).
        public var readBlock: Duration

        public init(
            workers: Int = 32, maxInFlight: Int = 2000, maxAttempts: Int = 30, retryBase: Duration = .milliseconds(200),
            retryCap: Duration = .seconds(30), readBlock: Duration = .seconds(1)
        ) {
            self.workers = workers
            self.maxInFlight = maxInFlight
            self.maxAttempts = maxAttempts
            self.retryBase = retryBase
            self.retryCap = retryCap
            self.readBlock = readBlock
        }
    }

    public struct Counters: Sendable, Equatable {
        public var handled = 0
        public var ignored = 0
        public var limited = 0
        public var retries = 0
        public var deadLettered = 0
        public var replayedAfterRestart = 0
        public var inFlight = 0
    }

    let journal: UpdateJournal
    let runner: FlowRunner
    let inboundLimit: InboundLimit
    let suppression: SuppressionList
    let leadership: any Leadership
    let reader: RedisClient
    let writer: RedisClientPool
    let settings: Settings
    let liveness: Liveness?
    let logger: Logger
    let counters = Mutex(Counters())
    let faultLog = LogThrottle(interval: .seconds(30))
    private let lanes = Mutex<ChatLanes<UpdateJournal.Entry>?>(nil)
    private let draining = Atomic<Bool>(false)

    public init(
        journal: UpdateJournal, runner: FlowRunner, inboundLimit: InboundLimit, suppression: SuppressionList,
        leadership: any Leadership, reader: RedisClient, writer: RedisClientPool, settings: Settings = Settings(),
        liveness: Liveness? = nil, logger: Logger
    ) {
        self.journal = journal
        self.runner = runner
        self.inboundLimit = inboundLimit
        self.suppression = suppression
        self.leadership = leadership
        self.reader = reader
        self.writer = writer
        self.settings = settings
        self.liveness = liveness
        self.logger = logger
    }

    public var stats: Counters {
        var c = counters.withLock { $0 }
        c.inFlight = lanes.withLock { $0?.count ?? 0 }
        return c
    }

    public func run() async {
        let finished = SimpleEvent()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.leadership.whileLeading { term in
                    await self.serve(term)
                }
                finished.fire()
            }
            group.addTask {
                // Ends at graceful shutdown (or when the group is cancelled).
                try? await gracefulShutdown()
                self.draining.store(true, ordering: .releasing)
                self.lanes.withLock { $0 }?.close()
            }
            await group.next()
            // Let the term in hand finish its entries (it sees `draining`), then stop leading.
            while !finished.isFired, lanes.withLock({ $0 }) != nil, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(20))
            }
            group.cancelAll()
        }
        await reader.close()
    }

    /// One term of leadership: read pending entries, then new ones, and hand them to the workers.
    func serve(_ term: LeaderTerm) async {
        guard !draining.load(ordering: .acquiring) else { return }
        let lanes = ChatLanes<UpdateJournal.Entry>()
        self.lanes.withLock { $0 = lanes }
        defer { self.lanes.withLock { $0 = nil } }
        logger.info("processing updates", metadata: ["term": "\(term)"])
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<settings.workers {
                group.addTask {
                    while let (chat, entry) = await lanes.next() {
                        await self.handle(entry)
                        lanes.done(chat)
                    }
                }
            }
            await readLoop(into: lanes)
            lanes.close()
            await group.waitForAll()
        }
    }

    private func readLoop(into lanes: ChatLanes<UpdateJournal.Entry>) async {
        let heartbeat = liveness?.register("update-processor", maxSilence: settings.readBlock + .seconds(30))
        defer { heartbeat?.retire() }
        var backoff = Backoff(base: .milliseconds(100), cap: .seconds(5))
        var pendingCursor: String? = "0"
        while !Task.isCancelled, !draining.load(ordering: .acquiring) {
            await heartbeat?.checkpoint()
            do throws(RedisError) {
                if pendingCursor == "0" { try await journal.ensureGroup(reader) }
                if lanes.count >= settings.maxInFlight {
                    try? await Task.sleep(for: .milliseconds(20))
                    continue
                }
                let room = min(100, settings.maxInFlight - lanes.count)
                let entries: [UpdateJournal.Entry]
                if let cursor = pendingCursor {
                    entries = try await journal.pending(after: cursor, count: room, on: reader)
                    pendingCursor = entries.last?.id
                    counters.withLock { $0.replayedAfterRestart += entries.count }
                } else {
                    entries = try await journal.next(count: room, block: settings.readBlock, on: reader)
                }
                backoff.reset()
                for entry in entries { lanes.enqueue(entry.chatID, entry) }
            } catch {
                logger.warning("reading updates failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff.next())
            }
        }
    }

    /// Handles one entry until it is done (then acks it), dead-lettered, or the task is cancelled.
    func handle(_ entry: UpdateJournal.Entry) async {
        var backoff = Backoff(base: settings.retryBase, cap: settings.retryCap)
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            do {
                try await process(entry)
                try await journal.ack(entry, on: writer.next())
                return
            } catch {
                if Task.isCancelled { return }
                let transient = UpdateFailure.isTransient(error)
                if transient { attempt = min(attempt, settings.maxAttempts - 1) }
                if !transient, attempt >= settings.maxAttempts {
                    logger.error(
                        "update set aside after repeated failures",
                        metadata: ["update": "\(entry.updateID)", "error": "\(error)"])
                    try? await journal.deadLetter(entry, reason: "\(error)", on: writer.next())
                    counters.withLock { $0.deadLettered += 1 }
                    return
                }
                counters.withLock { $0.retries += 1 }
                var wait = backoff.next()
                // A flow's retry-after comes from Telegram (already bounded by the client); this
                // bounds it once more to what one update may wait between attempts.
                if let later = error as? RetryLater, let after = later.after {
                    wait = max(wait, min(after, max(settings.retryCap, .seconds(3600))))
                }
                if let held = faultLog.admit(transient ? "transient" : "update:\(entry.updateID)") {
                    logger.notice(
                        "update will be retried",
                        metadata: [
                            "update": "\(entry.updateID)", "attempt": "\(attempt)", "transient": "\(transient)",
                            "error": "\(error)", "suppressed": "\(held)",
                        ])
                }
                try? await SlicedSleep.sleep(for: wait)
            }
        }
    }

    /// Runs the flow for one recorded update.
    func process(_ entry: UpdateJournal.Entry) async throws {
        guard let update = try? JSONDecoder().decode(Update.self, from: Data(entry.json)),
            var (event, user) = UpdateRouting.route(update)
        else {
            counters.withLock { $0.ignored += 1 }
            return
        }
        // Writing to the bot means the user unblocked it. (A club's membership change or join
        // request is not writing to the bot, and never waits behind the inbound limit: a member
        // who may not be inside is shown out however busy they are.)
        if !event.isDoorEvent { try await suppression.lift(user.chatID) }
        if !event.isDoorEvent, case .limited(let notify) = try await inboundLimit.check(userID: user.userID, updateID: update.updateID) {
            counters.withLock { $0.limited += 1 }
            event = .overLimit(callbackID: UpdateRouting.callbackID(event), notify: notify)
        }
        user.firstName = user.firstName.isEmpty ? "there" : user.firstName
        switch try await runner.run(scope: "u:\(update.updateID)", event: event, user: user) {
        case .retry(let after, let detail), .deferred(let after, let detail):
            throw RetryLater(after: after, detail: detail)
        default:
            counters.withLock { $0.handled += 1 }
        }
    }
}

/// Whether a failed update should wait (and never be set aside) or counts towards its attempts.
enum UpdateFailure {
    /// A cause outside the update that passes: Telegram down or flood-limited, Redis or the poller
    /// away, NocoDB unreachable, unreadable or refusing the token (an operator fixes that; the
    /// updates wait).
    static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case is RetryLater, is CancellationError, is RedisError: return true
        case let e as IPCError: return e.code.isRetryable
        // An unreadable reply is the peer's bad moment too, not the update's fault.
        case let e as TelegramError: return e.isRetryable || e.code == .cancelled || e.code == .invalidResponse
        case let e as NocoDBError:
            return e.isRetryable || [.unauthorized, .ambiguous, .invalidResponse].contains(e.code)
        default: return false
        }
    }
}

/// The flow asked to be run again later (a flood limit, Telegram down).
struct RetryLater: Error, CustomStringConvertible {
    var after: Duration?
    var detail: String
    var description: String { "retry later: \(detail)" }
}

/// A flag that can be waited for by polling.
final class SimpleEvent: Sendable {
    private let flag = Atomic<Bool>(false)
    func fire() { flag.store(true, ordering: .releasing) }
    var isFired: Bool { flag.load(ordering: .acquiring) }
}
