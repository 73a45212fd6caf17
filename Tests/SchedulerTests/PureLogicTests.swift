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
