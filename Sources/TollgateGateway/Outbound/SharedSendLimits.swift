import TollgateCoordination

/// Telegram's flood limits on the cluster-wide GCRA limiter of TollgateCoordination (Redis, server
/// clock): one budget for the bot (default 30 messages/s), one per chat (1/s), one per group
/// (20/min) — shared by every gateway process. Resources are named by the bot's numeric id,
/// never its token.
///
/// A message takes its chat's slot first, then the group's, then the bot's: a message held back by
/// its chat never holds a global slot it cannot use. A 429's `retry_after` pushes both the chat and
/// the bot back, for every process (Telegram does not say which limit was hit).
public struct SharedSendLimits: OutboundRateLimiter {
    public let limiter: any RateLimiter
    public let global: RateLimitedResource
    /// The background budget (``OutboundRateLimiter/acquireBackground()``).
    public let background: RateLimitedResource
    /// What a low-priority send (``OutboundRateLimiter/acquireLowPriority(chatID:cost:)``) leaves
    /// unused of the bot's burst: one slot, less a sliver (a tenth of a slot, at most 2 ms) so that
    /// a broadcast that wakes a little late does not lose that time for good. A reply arriving just
    /// after a broadcast's send goes at once, or within the sliver.
    public let lowPriorityReserve: Duration
    /// The paid broadcasts' budget (``OutboundRateLimiter/acquirePaid(chatID:cost:)``).
    public let paid: RateLimitedResource
    let prefix: String
    let chatPolicy: RateLimitPolicy
    let groupPolicy: RateLimitPolicy

    public init(
        limiter: any RateLimiter, botID: String, globalPerSecond: Double = 30, chatPerSecond: Double = 1,
        groupPerMinute: Double = 20, backgroundShare: Double = 0.1, paidPerSecond: Double = 100,
        maxBlock: Duration = RateLimitPolicy.defaultMaxBlock
    ) {
        self.paid = RateLimitedResource(
            name: "telegram:\(botID):paid", policy: Self.policy(perSecond: min(1000, max(1, paidPerSecond)), burst: 2, maxBlock: maxBlock))
        self.limiter = limiter
        self.prefix = "telegram:\(botID)"
        // Burst 2: a grant that comes a little late (a sleep overshoot, a Redis round trip) does not
        // push every later grant back; the local pacing of the sender spreads any pair it allows.
        self.global = RateLimitedResource(
            name: "telegram:\(botID):global", policy: Self.policy(perSecond: globalPerSecond, burst: 2, maxBlock: maxBlock))
        self.background = RateLimitedResource(
            name: "telegram:\(botID):background",
            policy: Self.policy(perSecond: globalPerSecond * min(1, max(0.001, backgroundShare)), maxBlock: maxBlock))
        let slot = global.policy.emissionInterval
        self.lowPriorityReserve = slot - min(slot / 10, .milliseconds(2))
        self.chatPolicy = Self.policy(perSecond: chatPerSecond, maxBlock: maxBlock)
        self.groupPolicy = Self.policy(perSecond: groupPerMinute / 60, maxBlock: maxBlock)
    }

    static func policy(perSecond: Double, burst: Int = 1, maxBlock: Duration) -> RateLimitPolicy {
        let micros = perSecond > 0 && perSecond.isFinite ? (1_000_000 / perSecond).rounded(.up) : 1_000_000
        return RateLimitPolicy(
            emissionInterval: .microseconds(Int64(exactly: micros) ?? 1_000_000), burst: burst, maxBlock: maxBlock)
    }

    func chat(_ id: Int64) -> RateLimitedResource { RateLimitedResource(name: "\(prefix):chat:\(id)", policy: chatPolicy) }
    func group(_ id: Int64) -> RateLimitedResource { RateLimitedResource(name: "\(prefix):group:\(id)", policy: groupPolicy) }

    public func acquire(chatID: Int64, cost: Int) async throws {
        for _ in 0..<max(1, cost) {
            try await limiter.acquire(chat(chatID))
            if chatID < 0 { try await limiter.acquire(group(chatID)) }
            try await limiter.acquire(global)
        }
    }

    public func acquireBackground() async throws {
        // A push-back of the bot (a 429) shows as a wait longer than its pace: background work sits it out.
        let held = try await limiter.currentWait(global)
        if held > global.policy.emissionInterval * 4 { try await Task.sleep(for: held) }
        try await limiter.acquire(background)
    }

    public func acquireLowPriority(chatID: Int64, cost: Int) async throws {
        for _ in 0..<max(1, cost) {
            try await limiter.acquire(chat(chatID))
            if chatID < 0 { try await limiter.acquire(group(chatID)) }
            // The bot's budget, only while a slot of its burst stays free after this one: a reply
            // takes that slot at once, and a reply taken first makes this one wait its turn again.
            // A 429's push-back holds it like any send.
            try await limiter.acquire(global, reserving: lowPriorityReserve)
        }
    }

    public func acquirePaid(chatID: Int64, cost: Int) async throws {
        for _ in 0..<max(1, cost) {
            try await limiter.acquire(chat(chatID))
            if chatID < 0 { try await limiter.acquire(group(chatID)) }
            try await limiter.acquire(paid)
        }
    }

    public func pushBack(chatID: Int64, by delay: Duration) async throws {
        try await limiter.pushBack(chat(chatID), by: delay)
        try await limiter.pushBack(global, by: delay)
        try await limiter.pushBack(paid, by: delay)
    }
}
