/// Telegram's flood limits for outbound messages, shared by every gateway process.
///
/// The production implementation (``SharedSendLimits``) keeps GCRA state in Redis on the Redis
/// clock: 30 messages/s for the bot, 1/s per chat, 20/min per group.
public protocol OutboundRateLimiter: Sendable {
    /// Waits until `cost` messages to `chatID` may go now, and takes those slots.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled, or the limiter's storage
    ///   error (Redis down): the message must not go.
    func acquire(chatID: Int64, cost: Int) async throws

    /// A 429 from Telegram: no message to `chatID`, and none at all, before `delay` from now — in
    /// every process sharing the limiter.
    func pushBack(chatID: Int64, by delay: Duration) async throws

    /// Waits for a slot of the background budget — work nobody is waiting for (a reconciliation's
    /// `getChatMember`, its removals) — and takes it. That budget is separate and cluster-wide, a
    /// share of the bot's rate, so background work never takes a slot a reply to a user needs;
    /// while a 429 holds the bot back, background work waits too.
    func acquireBackground() async throws

    /// Like ``acquire(chatID:cost:)`` for traffic nobody is waiting for (a broadcast): it takes a
    /// slot of the bot's budget only while the budget's burst is unused (never during a 429's
    /// push-back), so there is always a slot left that a reply arriving during a campaign takes at
    /// once; a campaign alone still uses the whole rate.
    func acquireLowPriority(chatID: Int64, cost: Int) async throws

    /// For a paid broadcast (`allow_paid_broadcast`): the chat's slot, then one of the paid budget
    /// (cluster-wide, `BROADCAST_PAID_RATE`) — not the bot's, which Telegram does not charge
    /// these against; a 429's push-back holds it too.
    func acquirePaid(chatID: Int64, cost: Int) async throws
}

extension OutboundRateLimiter {
    /// Without priorities (a test's limiter): the same as any send.
    public func acquireLowPriority(chatID: Int64, cost: Int) async throws {
        try await acquire(chatID: chatID, cost: cost)
    }

    public func acquirePaid(chatID: Int64, cost: Int) async throws {
        try await acquire(chatID: chatID, cost: cost)
    }
}
