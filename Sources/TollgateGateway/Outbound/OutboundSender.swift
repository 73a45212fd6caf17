import Logging
import Synchronization
import TollgateCore
import TollgateRedis
import TollgateTelegram

/// Whose slot a send takes.
public enum SendPriority: Sendable, Equatable {
    /// Replies, confirmations, reminders: someone is waiting for them.
    case normal
    /// A broadcast: only what the others leave (``OutboundRateLimiter/acquireLowPriority(chatID:cost:)``).
    case low
    /// A paid broadcast (`allow_paid_broadcast`): a budget of its own above the bot's
    /// (``OutboundRateLimiter/acquirePaid(chatID:cost:)``), leaving the bot's to everything else.
    case paid
}

/// The one way messages leave the gateway: Telegram's flood limits (shared through Redis with
/// every gateway), the suppression list, retries, and honest outcomes.
///
/// - Before each attempt the shared limiter is asked for a slot (global, chat, group).
/// - 429: the `retry_after` is pushed into the shared limiter — every gateway holds back — and the
///   message is tried again (up to ``Policy/maxRateLimitRetries`` times).
/// - 5xx and connections refused (known not to have gone out): tried again after 1 s, 5 s, 15 s
///   (``Policy/transientDelays``). A timeout or a connection broken after the request was written
///   may have reached the user: never repeated here, returned as uncertain for the caller to decide.
/// - 403 (blocked, deactivated, kicked) and 400 "chat not found": the chat goes on the suppression
///   list and is never tried again; later sends to it are skipped and counted.
/// - A migrated group is followed to its new id once.
///
/// The sender keeps no message of its own: callers (the flow runner, the `deliver` handler, a
/// broadcast outbox) own durability and decide what a `retryLater` means for them.
public final class OutboundSender: Sendable {
    /// Retry behaviour.
    public struct Policy: Sendable {
        /// Waits before the 2nd, 3rd, ... attempt after a transient failure.
        public var transientDelays: [Duration]
        /// How many 429s one send may absorb before it gives up with `retryLater`.
        public var maxRateLimitRetries: Int
        /// The longest single 429 wait absorbed in place; a longer one returns `retryLater` at once.
        public var maxInlineWait: Duration
        /// Sends leave this process at least this far apart (the global limit's spacing): a stall
        /// between the shared limiter's grant and the HTTP call (a busy machine) cannot turn into a
        /// bunch of messages arriving at Telegram together. A low-priority send keeps its distance
        /// from every departure, a normal one only from the normal ones (a reply never waits behind
        /// a broadcast here either; the shared budget's burst covers the pair). `nil`: no local pacing.
        public var localSpacing: Duration?

        public init(
            transientDelays: [Duration] = [.seconds(1), .seconds(5), .seconds(15)], maxRateLimitRetries: Int = 5,
            maxInlineWait: Duration = .seconds(30), localSpacing: Duration? = nil
        ) {
            self.transientDelays = transientDelays
            self.maxRateLimitRetries = maxRateLimitRetries
            self.maxInlineWait = maxInlineWait
            self.localSpacing = localSpacing
        }
    }

    /// Counters for `stats` and `/metrics`.
    public struct Counters: Sendable, Equatable {
        public var sent = 0
        public var rateLimited = 0
        public var transientRetries = 0
        public var suppressedNow = 0
        public var skippedSuppressed = 0
        public var failedPermanently = 0
        public var gaveUp = 0
        public var migrated = 0
        /// Attempts that failed after their request was written and before a status came.
        public var uncertain = 0
        /// Sends still waiting for their slot when their caller's time ran out (nothing sent).
        public var outOfTime = 0
    }

    let telegram: TelegramClient
    let limiter: any OutboundRateLimiter
    let suppression: SuppressionList
    let policy: Policy
    let logger: Logger
    private let counters = Mutex(Counters())
    private let faultLog = LogThrottle(interval: .seconds(30))
    /// This process's next departure slots: of any send, and of normal-priority ones.
    private let nextDeparture = Mutex((any: ContinuousClock.now, normal: ContinuousClock.now))

    public init(
        telegram: TelegramClient, limiter: any OutboundRateLimiter, suppression: SuppressionList,
        policy: Policy = Policy(), logger: Logger
    ) {
        self.telegram = telegram
        self.limiter = limiter
        self.suppression = suppression
        self.policy = policy
        self.logger = logger
    }

    public var stats: Counters { counters.withLock { $0 } }

    /// Sends `message`, waiting for the shared limits and retrying as the policy says.
    ///
    /// An attempt answered with any HTTP status (5xx, 429, 4xx) or refused before its request was
    /// written is known not to have gone out, and only such attempts are tried again here. One that
    /// failed after its request was written and before a status arrived (a timeout, a broken
    /// connection, an unreadable 200) may be with the user: it is never repeated here but returned
    /// as `retryLater(maybeSent: true)`, and the caller's policy decides.
    ///
    /// - Throws: `RedisError` when the suppression list or the limiter cannot be reached (nothing
    ///   was sent), `CancellationError` when the caller is cancelled before sending.
    ///
    /// - Parameters:
    ///   - departBy: no attempt leaves after this instant: a send still waiting for its slot then
    ///     returns `retryLater(maybeSent: false)`.
    ///   - beforeDeparture: called right before each attempt's request leaves — after every wait
    ///     for the limits — so a caller can journal "this may now reach the user" as late as possible.
    ///   - afterKnownNotSent: called as soon as an attempt is known not to have gone out, before any
    ///     wait: the caller's "may have reached the user" is cleared again, so a crash during the
    ///     backoff leaves nothing uncertain.
    public func send(
        _ message: OutboundMessage, priority: SendPriority = .normal, departBy: ContinuousClock.Instant? = nil,
        beforeDeparture: (@Sendable () async throws -> Void)? = nil,
        afterKnownNotSent: (@Sendable () async throws -> Void)? = nil
    ) async throws -> SendOutcome {
        if let reason = try await suppression.reason(for: message.chatID) {
            counters.withLock { $0.skippedSuppressed += 1 }
            return .suppressed(reason: reason)
        }
        var target = message
        var transientFailures = 0
        var rateLimits = 0
        var followedMigration = false
        while true {
            guard try await waitForSlot(target, priority: priority, departBy: departBy) else {
                counters.withLock { $0.outOfTime += 1 }
                return .outOfTime
            }
            try await beforeDeparture?()
            do throws(TelegramError) {
                let sent = try await sendDeparted(target)
                counters.withLock { $0.sent += target.cost }
                return .sent(sent)
            } catch {
                if !error.mayHaveTakenEffect && error.code != .cancelled { try await afterKnownNotSent?() }
                switch error.code {
                case .rateLimited:
                    rateLimits += 1
                    counters.withLock { $0.rateLimited += 1 }
                    let wait = error.retryAfter ?? .seconds(1)
                    try await limiter.pushBack(chatID: target.chatID, by: wait)
                    if let held = faultLog.admit("flood") {
                        logger.warning(
                            "telegram flood limit",
                            metadata: [
                                "chat": "\(target.chatID)", "retry_after_ms": "\(wait.milliseconds)", "suppressed": "\(held)",
                            ])
                    }
                    if rateLimits > policy.maxRateLimitRetries || wait > policy.maxInlineWait {
                        counters.withLock { $0.gaveUp += 1 }
                        return .retryLater(after: wait, error: error, maybeSent: false)
                    }
                case .forbidden, .chatNotFound:
                    try await suppression.suppress(target.chatID, reason: error.detail)
                    counters.withLock {
                        $0.suppressedNow += 1
                        $0.failedPermanently += 1
                    }
                    logger.info("chat suppressed", metadata: ["chat": "\(target.chatID)", "reason": "\(error.detail)"])
                    return .failed(error)
                case .chatMigrated:
                    guard let newID = error.migrateToChatID, !followedMigration else {
                        counters.withLock { $0.failedPermanently += 1 }
                        return .failed(error)
                    }
                    followedMigration = true
                    counters.withLock { $0.migrated += 1 }
                    target.chatID = newID
                case .transient where error.mayHaveTakenEffect:
                    // The request was written and no answer came: the message may be with the user.
                    counters.withLock { $0.uncertain += 1 }
                    return .retryLater(after: nil, error: error, maybeSent: true)
                case .transient:
                    guard transientFailures < policy.transientDelays.count else {
                        counters.withLock { $0.gaveUp += 1 }
                        return .retryLater(after: nil, error: error, maybeSent: false)
                    }
                    counters.withLock { $0.transientRetries += 1 }
                    try await Task.sleep(for: policy.transientDelays[transientFailures])
                    transientFailures += 1
                case .cancelled:
                    return .retryLater(after: nil, error: error, maybeSent: true)
                case .invalidResponse where error.mayHaveTakenEffect:
                    // An answer that cannot be read (garbage, truncated, too large): the message may
                    // or may not be with the user. Not repeated here; the caller's policy decides.
                    counters.withLock { $0.uncertain += 1 }
                    return .retryLater(after: nil, error: error, maybeSent: true)
                default:
                    // A bad request, a wrong token: sending the same again cannot help.
                    counters.withLock { $0.failedPermanently += 1 }
                    return .failed(error)
                }
            }
        }
    }

    /// Waits for the shared limits and this process's pacing; `false` when `departBy` came first
    /// (the slot, if one was granted, is given up: better a lost slot than a late message that
    /// makes the poller deliver the job again).
    private func waitForSlot(
        _ target: OutboundMessage, priority: SendPriority, departBy: ContinuousClock.Instant?
    ) async throws -> Bool {
        guard let departBy else {
            switch priority {
            case .normal: try await limiter.acquire(chatID: target.chatID, cost: target.cost)
            case .low: try await limiter.acquireLowPriority(chatID: target.chatID, cost: target.cost)
            case .paid: try await limiter.acquirePaid(chatID: target.chatID, cost: target.cost)
            }
            try await pace(cost: target.cost, priority: priority)
            return true
        }
        if ContinuousClock.now >= departBy { return false }
        let limiter = self.limiter
        let granted = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                switch priority {
                case .normal: try await limiter.acquire(chatID: target.chatID, cost: target.cost)
                case .low: try await limiter.acquireLowPriority(chatID: target.chatID, cost: target.cost)
                case .paid: try await limiter.acquirePaid(chatID: target.chatID, cost: target.cost)
                }
                return true
            }
            group.addTask {
                try await Task.sleep(until: departBy, clock: .continuous)
                return false
            }
            defer { group.cancelAll() }
            return try await group.next() ?? false
        }
        guard granted else { return false }
        try await pace(cost: target.cost, priority: priority)
        return ContinuousClock.now < departBy
    }

    /// Waits for this process's next departure slot (see ``Policy/localSpacing``).
    private func pace(cost: Int, priority: SendPriority) async throws {
        guard let spacing = policy.localSpacing else { return }
        let slot = nextDeparture.withLock { next -> ContinuousClock.Instant? in
            // A departure that comes late may catch up by half a spacing: lateness is not carried
            // into every later slot, and no two messages of a kind leave closer than half a spacing.
            switch priority {
            case .normal:
                let slot = max(next.normal, .now - spacing / 2)
                next.normal = slot + spacing * cost
                next.any = max(next.any, next.normal)
                return slot
            case .paid:
                // Past the bot's pace by design: its own budget holds it.
                return nil
            case .low:
                let slot = max(next.any, .now - spacing / 2)
                next.any = slot + spacing * cost
                return slot
            }
        }
        if let slot, slot > .now { try await Task.sleep(until: slot, clock: .continuous) }
    }

    /// Sends a message that has left the limits behind. Cancelling the caller (leadership lost,
    /// a shutdown deadline) no longer stops it: an HTTP request cut off half-way leaves the caller
    /// not knowing whether the user saw the message; letting it finish (within the request
    /// timeout) gives a definite answer to record.
    private func sendDeparted(_ message: OutboundMessage) async throws(TelegramError) -> [Message] {
        let result = await Task { () -> Result<[Message], TelegramError> in
            do throws(TelegramError) {
                return .success(try await self.perform(message))
            } catch {
                return .failure(error)
            }
        }.value
        return try result.get()
    }

    private func perform(_ message: OutboundMessage) async throws(TelegramError) -> [Message] {
        switch message.content {
        case .text(let text):
            return [
                try await telegram.sendMessage(
                    chatID: message.chatID, text: text, replyMarkup: message.keyboard, allowPaidBroadcast: message.allowPaidBroadcast)
            ]
        case .media(let kind, let file, let caption):
            return [
                try await telegram.sendMedia(
                    kind, chatID: message.chatID, file: file, caption: caption, replyMarkup: message.keyboard,
                    allowPaidBroadcast: message.allowPaidBroadcast)
            ]
        case .mediaGroup(let items):
            return try await telegram.sendMediaGroup(chatID: message.chatID, media: items)
        case .edit(let messageID, let text):
            return [
                try await telegram.editMessageText(chatID: message.chatID, messageID: messageID, text: text, replyMarkup: message.keyboard)
            ]
        }
    }
}
