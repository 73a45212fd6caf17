import Testing
import TollgateGateway

@Suite("Flow engine (pure)")
struct FlowEngineTests {
    let engine = FlowEngine(flow: .defaults)

    @Test func startWelcomesWithTheButtonUnlessPaid() {
        let plan = engine.plan(.start, phase: nil)
        #expect(plan.steps.count == 2)
        // A reply to the user's own action: sent again when a send was left uncertain.
        #expect(plan.steps.last == .send(FlowSend(FlowDefinition.defaults.welcome, keyboard: .getAccess, byDefault: .resend)))
        #expect(
            engine.plan(.start, phase: .paid).steps == [.send(FlowSend(FlowDefinition.defaults.alreadyPaid, byDefault: .resend))])
        // What nobody waits for is never repeated.
        #expect(engine.plan(.reminder(step: "reminder", cycle: nil), phase: .awaitingPayment).steps.contains {
            if case .send(let send) = $0 { return send.onUncertain == .skip }
            return false
        })
    }

    @Test func getAccessCreatesTheRecordThenLinksWatchesAndSchedules() {
        let plan = engine.plan(.getAccess(callbackID: "q"), phase: .idle)
        #expect(plan.steps.first == .answerCallback(id: "q", text: nil))
        #expect(plan.steps.contains(.ensureRecord))
        #expect(plan.steps.firstIndex(of: .ensureRecord)! < plan.steps.firstIndex(of: .watchPayment)!)
        #expect(plan.steps.last == .scheduleReminders)
        // Paid users are not charged again.
        #expect(!engine.plan(.getAccess(callbackID: "q"), phase: .paid).steps.contains(.ensureRecord))
    }

    @Test func remindersOnlyWhileAwaitingPaymentAndOnlyForTheCurrentCycle() {
        #expect(engine.plan(.reminder(step: "reminder", cycle: 4), phase: .awaitingPayment, stateVersion: 4).steps.count == 1)
        #expect(engine.plan(.reminder(step: "reminder", cycle: 4), phase: .paid, stateVersion: 5).skipReason != nil)
        #expect(engine.plan(.reminder(step: "reminder", cycle: 2), phase: .awaitingPayment, stateVersion: 4).skipReason != nil)
        #expect(engine.plan(.reminder(step: "nope", cycle: nil), phase: .awaitingPayment).skipReason != nil)
    }

    @Test func confirmationMovesToPaidOnceSendsAtLeastOnceAndCancelsReminders() {
        let plan = engine.plan(.paymentConfirmed, phase: .awaitingPayment)
        #expect(plan.steps.first == .transition(to: .paid, from: [nil, .idle, .topicSelected, .awaitingPayment], mustMove: true))
        guard case .send(let send) = plan.steps[1] else {
            Issue.record("expected a send")
            return
        }
        #expect(send.onUncertain == .resend)
        #expect(plan.steps.last == .cancelReminders)
        #expect(engine.plan(.paymentConfirmed, phase: .paid).skipReason == "already paid")
    }

    @Test func overLimitRepliesOncePolitelyAndStillAnswersButtons() {
        #expect(engine.plan(.overLimit(callbackID: nil, notify: false), phase: .idle).skipReason != nil)
        #expect(engine.plan(.overLimit(callbackID: nil, notify: true), phase: .idle).steps.count == 1)
        #expect(engine.plan(.overLimit(callbackID: "c", notify: false), phase: .idle).steps == [.answerCallback(id: "c", text: nil)])
    }

    @Test func templatesFillKnownPlaceholdersOnly() {
        #expect(FlowTemplate.render("Hi {first_name}, {unknown} {x", ["first_name": "Ana"]) == "Hi Ana, {unknown} {x")
        #expect(FlowTemplate.placeholders(in: "{a} and {payment_url} {}") == ["a", "payment_url"])
    }
}
