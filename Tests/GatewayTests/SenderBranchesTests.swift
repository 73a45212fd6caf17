import Synchronization
import Testing
import TollgateCoordination
import TollgateGateway
import TollgateSimulators
import TollgateTelegram

/// Each branch of the outbound sender, through the Telegram simulator: what it answers, how often
/// Telegram was asked, what reached the chat, and when the caller's "may have reached the user"
/// mark is set and cleared (`beforeDeparture` / `afterKnownNotSent`).
@Suite("Sender branches through the simulator", .timeLimit(.minutes(2)))
struct SenderBranchesTests {
    /// Counts the sender's callbacks, optionally acting on the first "known not sent".
    final class Marks: Sendable {
        let departures = Atomic<Int>(0)
        let knownNotSent = Atomic<Int>(0)
        let onFirstKnownNotSent: (@Sendable () -> Void)?
        init(onFirstKnownNotSent: (@Sendable () -> Void)? = nil) { self.onFirstKnownNotSent = onFirstKnownNotSent }

        func send(_ sender: OutboundSender, _ message: OutboundMessage) async throws -> SendOutcome {
            try await sender.send(
                message,
                beforeDeparture: { self.departures.wrappingAdd(1, ordering: .relaxed) },
                afterKnownNotSent: {
                    if self.knownNotSent.wrappingAdd(1, ordering: .relaxed).oldValue == 0 { self.onFirstKnownNotSent?() }
                })
        }
        var departed: Int { departures.load(ordering: .relaxed) }
        var cleared: Int { knownNotSent.load(ordering: .relaxed) }
    }

    /// Limits far above the simulator's, so that the simulator's 429 is what holds a message back,
    /// and the sender's answer to it (pushing the shared limits back by `retry_after`) is what lets it go.
    static func looseLimits() -> SharedSendLimits {
        SharedSendLimits(limiter: LocalRateLimiter(), botID: "654321", globalPerSecond: 1000, chatPerSecond: 1000, groupPerMinute: 60_000)
    }

    @Test("429 for one chat: the retry_after is waited for and the message goes once")
    func perChatFloodLimit() async throws {
        // One message per 4 s to a chat: the second send meets a 429 however slow the machine is.
        let limits = SimFloodLimits(globalPerSecond: 1000, globalBurst: 1000, perChatPerSecond: 0.25, perChatBurst: 1)
        try await withGateway(limits: limits, limiter: Self.looseLimits(), startPolling: false) { gw in
            gw.simulator.addUsers([SimUser(id: 8100)])
            let marks = Marks()
            for n in 1...2 {
                let outcome = try await marks.send(gw.sender, .text("flood \(n)", to: 8100))
                #expect(outcome.wasSent, "\(outcome)")
            }
            #expect(gw.texts(8100) == ["flood 1", "flood 2"])
            #expect(gw.simulator.counters.floodRefusalsByScope["chat", default: 0] >= 1)
            #expect(gw.sender.stats.rateLimited == gw.simulator.counters.floodRefusals)
            // Every refused attempt was known not to have gone out.
            #expect(marks.cleared == gw.simulator.counters.floodRefusals)
            #expect(marks.departed == 2 + marks.cleared)
        }
    }

    @Test("429 for the whole bot: every message of a burst goes once")
    func globalFloodLimit() async throws {
        // One message a second for the whole bot: five at once meet 429s however slow the machine
        // is, and none needs more than four waits (the sender absorbs five).
        let limits = SimFloodLimits(globalPerSecond: 1, globalBurst: 1, perChatPerSecond: 100, perChatBurst: 100)
        try await withGateway(limits: limits, limiter: Self.looseLimits(), startPolling: false) { gw in
            let users = (8200..<8205).map { SimUser(id: Int64($0)) }
            gw.simulator.addUsers(users)
            let outcomes = try await withThrowingTaskGroup(of: SendOutcome.self) { group in
                for user in users { group.addTask { try await gw.sender.send(.text("all at once", to: user.id)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.allSatisfy { $0.wasSent }, "\(outcomes)")
            for user in users { #expect(gw.simulator.sent(to: user.id).count == 1) }
            #expect(gw.simulator.counters.floodRefusalsByScope["global", default: 0] >= 1)
            #expect(gw.sender.stats.rateLimited >= 1)
        }
    }

    @Test("403 blocked and 400 chat not found: failed for good, suppressed, never asked again")
    func permanentRefusals() async throws {
        try await withGateway(startPolling: false) { gw in
            gw.simulator.addUsers([SimUser(id: 8300)])
            gw.simulator.block(userID: 8300)
            for chat: Int64 in [8300, 8399] {  // 8399 never wrote to the bot: chat not found
                let first = try await gw.sender.send(.text("hello", to: chat))
                guard case .failed(let error) = first else {
                    Issue.record("\(first)")
                    continue
                }
                #expect(error.isPermanentForChat)
                let second = try await gw.sender.send(.text("hello again", to: chat))
                guard case .suppressed = second else {
                    Issue.record("\(second)")
                    continue
                }
            }
            #expect(gw.simulator.counters.forbidden == 1)
            #expect(gw.simulator.counters.chatNotFound == 1)
            #expect(gw.sender.stats.suppressedNow == 2)
            #expect(gw.sender.stats.skippedSuppressed == 2)
            #expect(gw.simulator.allSent().isEmpty)
        }
    }

    @Test("A group that became a supergroup: followed to its new id, once")
    func migratedGroup() async throws {
        try await withGateway(startPolling: false) { gw in
            gw.simulator.addGroup(id: -8400, title: "club")
            gw.simulator.migrateGroup(-8400, to: -100_8400)
            let outcome = try await gw.sender.send(.text("to the group", to: -8400))
            #expect(outcome.wasSent, "\(outcome)")
            #expect(gw.simulator.sent(to: -100_8400).map(\.text) == ["to the group"])
            #expect(gw.simulator.sent(to: -8400).isEmpty)
            #expect(gw.sender.stats.migrated == 1)
        }
    }

    @Test("A 5xx answer is known not sent: the mark is cleared before the backoff, and the retry succeeds")
    func transientThenSuccess() async throws {
        try await withGateway(startPolling: false) { gw in
            gw.simulator.addUsers([SimUser(id: 8500)])
            gw.simulator.setHostility(SimHostility(rate: 1, faults: [.serverError], routes: ["sendMessage"]))
            // Heals as soon as the sender learns the first attempt did not go out.
            let simulator = gw.simulator
            let marks = Marks(onFirstKnownNotSent: { simulator.setHostility(.none) })
            let outcome = try await marks.send(gw.sender, .text("after a 5xx", to: 8500))
            #expect(outcome.wasSent, "\(outcome)")
            #expect(gw.texts(8500) == ["after a 5xx"])
            #expect(gw.simulator.counters.requests["sendMessage"] == 2)
            #expect(marks.departed == 2)
            #expect(marks.cleared == 1)
            #expect(gw.sender.stats.transientRetries == 1)
            #expect(gw.sender.stats.uncertain == 0)
        }
    }

    @Test("5xx on every attempt: given back as retry later, known not sent, after the policy's attempts")
    func transientExhausted() async throws {
        try await withGateway(startPolling: false) { gw in
            gw.simulator.addUsers([SimUser(id: 8600)])
            gw.simulator.setHostility(SimHostility(rate: 1, faults: [.serverError, .html], routes: ["sendMessage"]))
            let marks = Marks()
            let outcome = try await marks.send(gw.sender, .text("never", to: 8600))
            guard case .retryLater(_, let error, let maybeSent) = outcome else {
                Issue.record("\(outcome)")
                return
            }
            #expect(!maybeSent)
            #expect(error.code == .transient)
            // The harness's policy: two delays, so three attempts.
            #expect(gw.simulator.counters.requests["sendMessage"] == 3)
            #expect(marks.departed == 3 && marks.cleared == 3)
            #expect(gw.sender.stats.gaveUp == 1)
            #expect(gw.simulator.sent(to: 8600).isEmpty)
        }
    }

    @Test("A reply lost after the request was written: uncertain, reported, never repeated by the sender")
    func uncertain() async throws {
        try await withGateway(startPolling: false) { gw in
            gw.simulator.addUsers([SimUser(id: 8700)])
            gw.simulator.setHostility(SimHostility(rate: 1, faults: [.lostReply], routes: ["sendMessage"]))
            let marks = Marks()
            let outcome = try await marks.send(gw.sender, .text("did it arrive?", to: 8700))
            guard case .retryLater(_, _, let maybeSent) = outcome else {
                Issue.record("\(outcome)")
                return
            }
            #expect(maybeSent)
            #expect(gw.simulator.counters.requests["sendMessage"] == 1, "asked once, not again")
            #expect(gw.texts(8700) == ["did it arrive?"], "the user has it")
            #expect(marks.departed == 1)
            #expect(marks.cleared == 0, "the mark stays: the step's policy decides")
            #expect(gw.sender.stats.uncertain == 1)
        }
    }
}

/// A limiter that records what it was asked, in order.
final class RecordingLimiter: RateLimiter {
    /// The limiter's clock (µs), moved by the test only.
    final class ManualClock: Sendable {
        let micros = Atomic<Int64>(1_000_000)
        func add(_ n: Int64, ordering _: AtomicUpdateOrdering = .relaxed) { micros.add(n, ordering: .relaxed) }
    }
    let clock = ManualClock()
    let inner: LocalRateLimiter
    let events = Mutex<[String]>([])

    init() {
        let clock = self.clock
        inner = LocalRateLimiter(now: { clock.micros.load(ordering: .relaxed) })
    }

    func acquire(_ resource: RateLimitedResource) async throws -> RateLimitGrant {
        events.withLock { $0.append("ask \(resource.name.split(separator: ":").dropFirst(2).first ?? "")") }
        let grant = try await inner.acquire(resource)
        events.withLock { $0.append("acquire \(resource.name.split(separator: ":").dropFirst(2).first ?? "")") }
        return grant
    }

    func acquire(_ resource: RateLimitedResource, reserving: Duration) async throws -> RateLimitGrant {
        events.withLock { $0.append("ask \(resource.name.split(separator: ":").dropFirst(2).first ?? "") reserving") }
        let grant = try await inner.acquire(resource, reserving: reserving)
        events.withLock { $0.append("acquire \(resource.name.split(separator: ":").dropFirst(2).first ?? "") reserving") }
        return grant
    }

    func pushBack(_ resource: RateLimitedResource, by delay: Duration) async throws {
        try await inner.pushBack(resource, by: delay)
    }

    func currentWait(_ resource: RateLimitedResource) async throws -> Duration {
        let wait = try await inner.currentWait(resource)
        events.withLock { $0.append("peek \(resource.name.split(separator: ":").dropFirst(2).first ?? "") \(wait == .zero ? "free" : "held")") }
        return wait
    }
}

@Suite("Low-priority sends (broadcasts)", .timeLimit(.minutes(1)))
struct LowPrioritySendTests {
    static func ask(_ recorder: RecordingLimiter) -> Int { recorder.events.withLock { $0.filter { $0 == "ask global reserving" }.count } }

    @Test("A broadcast's send takes the bot's budget only while its burst is unused: a reply after it goes at once, a broadcast after a reply waits its turn, a 429 holds both")
    func leavesASlotForReplies() async throws {
        let recorder = RecordingLimiter()
        let limits = SharedSendLimits(limiter: recorder, botID: "654321", globalPerSecond: 10, chatPerSecond: 100, groupPerMinute: 6000)
        let interval = limits.global.policy.emissionInterval
        // The budget is unused: the broadcast's message goes, and a reply would still go at once.
        try await limits.acquireLowPriority(chatID: 42, cost: 1)
        #expect(try await recorder.currentWait(limits.global) == .zero)
        // A second broadcast message asks (the limiter's clock stands still, so it can only wait:
        // granted now, it would take the reply's slot and the reply below would wait for ever).
        let second = Task { try await limits.acquireLowPriority(chatID: 44, cost: 1) }
        #expect(await eventually(timeout: .seconds(20), every: .milliseconds(5)) { Self.ask(recorder) >= 2 })
        try await limits.acquire(chatID: 43, cost: 1)
        // A slot later a reply could go again; the broadcast waits until a slot stays free after it.
        recorder.clock.add(interval.microseconds)
        #expect(try await recorder.currentWait(limits.global) == .zero)
        recorder.clock.add(interval.microseconds)
        try await second.value
        #expect(recorder.events.withLock { $0.filter { $0 == "acquire global reserving" }.count } == 2)
        // A 429 holds a broadcast back like any send.
        recorder.clock.add(10 * interval.microseconds)
        try await limits.pushBack(chatID: 45, by: .seconds(2))
        #expect(try await recorder.currentWait(limits.global) >= .seconds(2))
        let held = Task { try await limits.acquireLowPriority(chatID: 46, cost: 1) }
        #expect(await eventually(timeout: .seconds(20), every: .milliseconds(5)) { Self.ask(recorder) >= 3 })
        recorder.clock.add(1_000_000)
        #expect(recorder.events.withLock { $0.filter { $0 == "acquire global reserving" }.count } == 2, "not during the push-back")
        recorder.clock.add(1_100_000)
        try await held.value
    }
}
