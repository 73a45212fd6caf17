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

/// The GCRA state of every scope. Pure: time is passed in (seconds on the simulator's clock).
struct SimFloodControl: Sendable {
    var limits: SimFloodLimits
    private var globalTAT: Double = 0
    private var chatTAT: [Int64: Double] = [:]
    private var groupTAT: [Int64: Double] = [:]

    init(limits: SimFloodLimits) { self.limits = limits }

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
