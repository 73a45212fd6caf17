/// Telegram's flood limits as the simulator models them: GCRA (a leaky bucket that allows a burst)
/// per scope — the whole bot, each chat, and each group — on the simulator's clock.
///
/// Defaults follow the Bot FAQ: about 30 messages per second overall, about one per second per
/// chat with short bursts, 20 per minute per group. A message that would break any scope is
/// refused with 429 and the time until it would conform (`retry_after`, whole seconds, at least 1);
/// a refused message uses no capacity.
public struct SimFloodLimits: Sendable, Hashable {
    public var enabled: Bool
    /// Messages per second for the whole bot, and how many may arrive at once.
    public var globalPerSecond: Double
    public var globalBurst: Int
    /// Messages per second to one chat, and the burst allowed.
    public var perChatPerSecond: Double
    public var perChatBurst: Int
    /// Messages per minute to one group or supergroup (negative chat id), and the burst allowed.
    public var perGroupPerMinute: Double
    public var perGroupBurst: Int
    /// Messages per second sent with `allow_paid_broadcast` past the free limit (Telegram: 1,000).
    public var paidPerSecond: Double = 1000

    public init(
        enabled: Bool = true, globalPerSecond: Double = 30, globalBurst: Int = 5, perChatPerSecond: Double = 1,
        perChatBurst: Int = 3, perGroupPerMinute: Double = 20, perGroupBurst: Int = 3
    ) {
        self.enabled = enabled
        self.globalPerSecond = globalPerSecond
        self.globalBurst = globalBurst
        self.perChatPerSecond = perChatPerSecond
        self.perChatBurst = perChatBurst
        self.perGroupPerMinute = perGroupPerMinute
        self.perGroupBurst = perGroupBurst
    }

    /// No limits at all (for tests that need a bare endpoint).
    public static let off = SimFloodLimits(enabled: false)
}

/// Which limit refused a message.
public enum SimFloodScope: String, Sendable, Hashable, CaseIterable {
    case global, chat, group
}

/// Which limit refused a message, and for how long.
struct SimRefusalReason: Error, Sendable {
    var scope: SimFloodScope
    var wait: Double
}

/// The GCRA state of every scope. Pure: time is passed in (seconds on the simulator's clock).
struct SimFloodControl: Sendable {
    var limits: SimFloodLimits
    private var globalTAT: Double = 0
    private var chatTAT: [Int64: Double] = [:]
    private var groupTAT: [Int64: Double] = [:]
    private var paidTAT: Double = 0

    init(limits: SimFloodLimits) { self.limits = limits }

    /// A message sent with `allow_paid_broadcast`: the chat's and group's limits as always; the
    /// bot's free limit while it has room (free), else the paid one (`paidPerSecond`), charged.
    /// Returns the refusal, or how many of the `cost` messages went past the free limit.
    mutating func admitPaid(chatID: Int64, cost: Int, now: Double) -> Result<Int, SimRefusalReason> {
        guard limits.enabled else { return .success(0) }
        let n = Double(max(cost, 1))
        let cT = 1 / limits.perChatPerSecond
        let c = Self.next(chatTAT[chatID] ?? 0, now: now, interval: cT, cost: n)
        if let wait = Self.excess(c, now: now, interval: cT, burst: limits.perChatBurst) { return .failure(.init(scope: .chat, wait: wait)) }
        var p: Double?
        if chatID < 0 {
            let pT = 60 / limits.perGroupPerMinute
            let next = Self.next(groupTAT[chatID] ?? 0, now: now, interval: pT, cost: n)
            if let wait = Self.excess(next, now: now, interval: pT, burst: limits.perGroupBurst) { return .failure(.init(scope: .group, wait: wait)) }
            p = next
        }
        let gT = 1 / limits.globalPerSecond
        let g = Self.next(globalTAT, now: now, interval: gT, cost: n)
        var charged = 0
        if Self.excess(g, now: now, interval: gT, burst: limits.globalBurst) == nil {
            globalTAT = g
        } else {
            let paidT = 1 / max(limits.paidPerSecond, 1)
            let next = Self.next(paidTAT, now: now, interval: paidT, cost: n)
            if let wait = Self.excess(next, now: now, interval: paidT, burst: 50) { return .failure(.init(scope: .global, wait: wait)) }
            paidTAT = next
            charged = max(cost, 1)
        }
        chatTAT[chatID] = c
        if let p { groupTAT[chatID] = p }
        return .success(charged)
    }

    /// Admits `cost` messages to `chatID` at `now`, or returns the refusing scope and the wait.
    mutating func admit(chatID: Int64, cost: Int, now: Double) -> (scope: SimFloodScope, wait: Double)? {
        guard limits.enabled else { return nil }
        let n = Double(max(cost, 1))
        let gT = 1 / limits.globalPerSecond
        let cT = 1 / limits.perChatPerSecond
        let pT = 60 / limits.perGroupPerMinute
        var refusals: [(SimFloodScope, Double)] = []
        let g = Self.next(globalTAT, now: now, interval: gT, cost: n)
        if let wait = Self.excess(g, now: now, interval: gT, burst: limits.globalBurst) { refusals.append((.global, wait)) }
        let c = Self.next(chatTAT[chatID] ?? 0, now: now, interval: cT, cost: n)
        if let wait = Self.excess(c, now: now, interval: cT, burst: limits.perChatBurst) { refusals.append((.chat, wait)) }
        var p: Double?
        if chatID < 0 {
            let next = Self.next(groupTAT[chatID] ?? 0, now: now, interval: pT, cost: n)
            p = next
            if let wait = Self.excess(next, now: now, interval: pT, burst: limits.perGroupBurst) {
                refusals.append((.group, wait))
            }
        }
        if let worst = refusals.max(by: { $0.1 < $1.1 }) { return worst }
        globalTAT = g
        chatTAT[chatID] = c
        if let p { groupTAT[chatID] = p }
        return nil
    }

    private static func next(_ tat: Double, now: Double, interval: Double, cost: Double) -> Double {
        max(tat, now) + cost * interval
    }

    /// How long past conformance `newTAT` is (nil when it conforms): it may run ahead of `now`
    /// by at most `burst` intervals.
    private static func excess(_ newTAT: Double, now: Double, interval: Double, burst: Int) -> Double? {
        let over = newTAT - now - Double(max(burst, 1)) * interval
        return over > 1e-9 ? over : nil
    }
}
