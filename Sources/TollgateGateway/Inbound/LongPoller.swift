import Logging
import ServiceLifecycle
import Synchronization
import TollgateCoordination
import TollgateCore
import TollgateRedis
import TollgateRuntime
import TollgateTelegram

/// Long polling while this gateway leads: `getUpdates` (timeout ~30 s, `message` +
/// `callback_query`, 100 per call) from the committed offset; each batch is recorded in the
/// ``UpdateJournal`` together with the new offset, in one script, before the next call confirms
/// it to Telegram. An update is therefore never confirmed before it is durable, and never
/// recorded twice.
///
/// 409 Conflict (another poller on this token, or a webhook set behind our back) is counted,
/// reported in health and stats, and answered with backoff.
public final class LongPoller: Service, Sendable {
    public struct Settings: Sendable {
        public var timeoutSeconds: Int
        public var limit: Int
        public var allowedUpdates: [String]

        public init(timeoutSeconds: Int = 30, limit: Int = 100, allowedUpdates: [String] = ["message", "callback_query"]) {
            self.timeoutSeconds = timeoutSeconds
            self.limit = limit
            self.allowedUpdates = allowedUpdates
        }
    }

    public struct Counters: Sendable, Equatable {
        public var polls = 0
        public var updatesReceived = 0
        public var updatesRecorded = 0
        public var duplicates = 0
        public var conflicts = 0
        public var errors = 0
        /// Updates left out or recorded without a part that could not be read.
        public var unreadable = 0
        /// Wall-clock ms of the last 409, 0 if none.
        public var lastConflictMs: Int64 = 0
        public var offset: Int64 = 0
    }

    let telegram: TelegramClient
    let journal: UpdateJournal
    let leadership: any Leadership
    let redis: RedisClient
    let settings: Settings
    let liveness: Liveness?
    let logger: Logger
    let counters = Mutex(Counters())
    let faultLog = LogThrottle(interval: .seconds(60))

    public init(
        telegram: TelegramClient, journal: UpdateJournal, leadership: any Leadership, redis: RedisClient,
        settings: Settings = Settings(), liveness: Liveness? = nil, logger: Logger
    ) {
        self.telegram = telegram
        self.journal = journal
        self.leadership = leadership
        self.redis = redis
        self.settings = settings
        self.liveness = liveness
        self.logger = logger
    }

    public var stats: Counters { counters.withLock { $0 } }

    /// Whether a 409 was seen within `window`.
    public func recentConflict(within window: Duration = .seconds(120)) -> Bool {
        let last = counters.withLock { $0.lastConflictMs }
        return last > 0 && WallClock.epochMilliseconds() - last < window.milliseconds
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            await self.leadership.whileLeading { term in
                self.logger.info("polling telegram", metadata: ["term": "\(term)"])
                await self.poll()
            }
        }
        await redis.close()
    }

    func poll() async {
        // Beats only while polling: a follower has no loop to vouch for.
        let heartbeat = liveness?.register("telegram-poll", maxSilence: .seconds(settings.timeoutSeconds + 60))
        defer { heartbeat?.retire() }
        var backoff = Backoff(base: .seconds(1), cap: .seconds(30))
        var webhookChecked = false
        var offset: Int64?
        var offsetLoaded = false
        // A long wait Telegram asks for (a 429 of minutes) is slept in slices that beat.
        let progress: @Sendable () async -> Void = { await heartbeat?.checkpoint() }
        while !Task.isCancelled {
            await heartbeat?.checkpoint()
            do {
                if !webhookChecked {
                    // A webhook left over from webhook mode makes every getUpdates a 409.
                    if try await !telegram.getWebhookInfo().url.isEmpty {
                        try await telegram.deleteWebhook()
                        logger.notice("deleted the webhook to use long polling")
                    }
                    webhookChecked = true
                }
                if !offsetLoaded {
                    offset = try await journal.committedOffset(redis)
                    offsetLoaded = true
                }
                counters.withLock { $0.polls += 1 }
                let batch = try await telegram.getUpdates(
                    offset: offset, limit: settings.limit, timeout: settings.timeoutSeconds,
                    allowedUpdates: settings.allowedUpdates)
                backoff.reset()
                noteUnreadable(batch)
                let updates = batch.updates
                // An update_id of Int64.max leaves no offset to confirm it with: such an update is
                // not Telegram's (its ids are far smaller) and is left out.
                guard let last = updates.map(\.updateID).filter({ $0 < .max }).max() else { continue }
                let next = last + 1
                let result = try await recordDurably(updates, offset: next)
                offset = next
                counters.withLock {
                    $0.updatesReceived += updates.count
                    $0.updatesRecorded += result.recorded
                    $0.duplicates += result.duplicates
                    $0.offset = next
                }
            } catch let error as TelegramError {
                if error.code == .cancelled || Task.isCancelled { return }
                var wait = backoff.next()
                switch error.code {
                case .conflict:
                    counters.withLock {
                        $0.conflicts += 1
                        $0.lastConflictMs = WallClock.epochMilliseconds()
                    }
                    webhookChecked = false
                    logger.warning(
                        "telegram 409 conflict: another process polls this bot, or a webhook is set",
                        metadata: ["detail": "\(error.detail)"])
                case .rateLimited:
                    wait = max(wait, error.retryAfter ?? .seconds(1))
                    counters.withLock { $0.errors += 1 }
                default:
                    counters.withLock { $0.errors += 1 }
                    if let held = faultLog.admit("getUpdates:\(error.code.rawValue)") {
                        logger.warning("getUpdates failed", metadata: ["error": "\(error)", "suppressed": "\(held)"])
                    }
                }
                try? await SlicedSleep.withProgress(progress) { try await SlicedSleep.sleep(for: wait) }
            } catch {
                // Redis: the batch was not recorded and the offset not committed; Telegram gives it again.
                counters.withLock { $0.errors += 1 }
                offsetLoaded = false
                logger.warning("recording updates failed", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff.next())
            }
        }
    }

    /// Logs (once a minute) updates that could not be read whole: they are recorded and skipped.
    private func noteUnreadable(_ batch: UpdateBatch) {
        let parts = batch.updates.filter { !$0.unreadable.isEmpty }
        guard batch.skipped > 0 || !parts.isEmpty else { return }
        counters.withLock { $0.unreadable += batch.skipped + parts.count }
        if let held = faultLog.admit("unreadable-update") {
            logger.warning(
                "Telegram sent updates that could not be read; they are skipped",
                metadata: [
                    "without_update_id": "\(batch.skipped)", "unreadable_parts": "\(parts.count)",
                    "first": "\(parts.first.map { "\($0.updateID): \($0.unreadable.joined(separator: ","))" } ?? "-")",
                    "suppressed": "\(held)",
                ])
        }
    }

    /// Records a batch, retrying a Redis failure a few times before giving the batch back to Telegram.
    private func recordDurably(_ updates: [Update], offset: Int64) async throws(RedisError) -> (recorded: Int, duplicates: Int) {
        var attempt = 0
        while true {
            do throws(RedisError) {
                return try await journal.record(updates, commitOffset: offset, on: redis)
            } catch {
                attempt += 1
                if attempt >= 5 || !error.isRetryable || Task.isCancelled { throw error }
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }
}
