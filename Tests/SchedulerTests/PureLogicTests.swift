import Testing
import TollgateScheduler

@Suite struct GatewayGateTests {
    @Test func backsOffExponentiallyCappedAndResets() {
        var gate = GatewayGate(base: .milliseconds(100), cap: .seconds(1))
        #expect(gate.isOpen(at: .zero))
        gate.failed(at: .zero, unit: 1)
        #expect(gate.resumeAt == .milliseconds(100))
        #expect(!gate.isOpen(at: .milliseconds(99)) && gate.isOpen(at: .milliseconds(100)))
        // A failure of a batch already in flight during the pause does not grow it.
        gate.failed(at: .milliseconds(50), unit: 1)
        #expect(gate.resumeAt == .milliseconds(100) && gate.failures == 1)
        gate.failed(at: .milliseconds(100), unit: 1)
        #expect(gate.resumeAt == .milliseconds(300))
        gate.failed(at: .milliseconds(300), unit: 0)
        #expect(gate.resumeAt == .milliseconds(500))  // ceiling 400 ms, equal jitter: 200...400
        for _ in 0..<10 { gate.failed(at: gate.resumeAt!, unit: 1) }
        let before = gate.resumeAt!
        gate.failed(at: before, unit: 1)
        #expect(gate.resumeAt! - before == .seconds(1))  // capped
        gate.succeeded()
        #expect(gate.isOpen(at: before) && gate.failures == 0)
        gate.failed(at: .seconds(100), unit: 1)
        #expect(gate.resumeAt == .seconds(100) + .milliseconds(100))
    }
}

@testable import TollgateScheduler

@Suite struct WakeSignalTests {
    @Test func aWakeUpBeforeTheWaitIsNotLost() async {
        let signal = WakeSignal()
        signal.notify(dueMs: 1_000)  // arrives while the dispatcher is busy between claim and wait
        let early = await signal.wait(until: .now + .seconds(30), targetMs: 5_000)
        #expect(early)
    }

    @Test func onlyAnEarlierDueTimeOrARescanWakes() async throws {
        let signal = WakeSignal()
        async let woke = signal.wait(until: .now + .seconds(30), targetMs: 5_000)
        try await Task.sleep(for: .milliseconds(100))
        signal.notify(dueMs: 6_000)  // later than what the sleeper waits for: ignored
        signal.notify(dueMs: 5_000)
        try await Task.sleep(for: .milliseconds(100))
        signal.notify(dueMs: 4_999)
        #expect(await woke)
        async let rescan = signal.wait(until: .now + .seconds(30), targetMs: 5_000)
        try await Task.sleep(for: .milliseconds(100))
        signal.notify(dueMs: nil)
        #expect(await rescan)
    }

    @Test func theTimerEndsTheWaitAndCancellationToo() async {
        let signal = WakeSignal()
        #expect(await !signal.wait(until: .now + .milliseconds(50), targetMs: nil))
        let task = Task { await signal.wait(until: .now + .seconds(30), targetMs: nil) }
        task.cancel()
        #expect(await !task.value)
    }
}
