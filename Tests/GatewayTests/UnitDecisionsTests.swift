import Foundation
import Testing
import TollgateCore
import TollgateTelegram

@testable import TollgateGateway

/// The decisions of a unit's run and the journal's records, without Redis or Telegram.
@Suite("Unit decisions and journal records")
struct UnitDecisionsTests {
    let skipSend = FlowStep.send(FlowSend(.init(text: "reminder"), byDefault: .skip))
    let resendSend = FlowStep.send(FlowSend(.init(text: "welcome"), byDefault: .resend))

    @Test("Before a step: a done record is restored, no record runs, an uncertain send follows its policy")
    func before() {
        #expect(UnitDecisions.before(skipSend, mark: nil) == .run)
        #expect(UnitDecisions.before(skipSend, mark: .done(.sent(messageID: 4))) == .restore(.sent(messageID: 4)))
        #expect(UnitDecisions.before(skipSend, mark: .started) == .skipUncertain)
        #expect(UnitDecisions.before(resendSend, mark: .started) == .resendUncertain)
        // A record nobody can read is as uncertain as a started one.
        #expect(UnitDecisions.before(skipSend, mark: .unreadable) == .skipUncertain)
        #expect(UnitDecisions.before(resendSend, mark: .unreadable) == .resendUncertain)
        // Every other step is idempotent: run again.
        #expect(UnitDecisions.before(.ensureRecord, mark: .started) == .run)
        #expect(UnitDecisions.before(.transition(to: .paid, from: [nil], mustMove: true), mark: .unreadable) == .run)
    }

    @Test("The message's own on_uncertain wins over the place's default")
    func policyOverride() {
        let reminderThatResends = FlowSend(.init(text: "r", onUncertain: .resend), byDefault: .skip)
        #expect(reminderThatResends.onUncertain == .resend)
        let welcomeThatSkips = FlowSend(.init(text: "w", onUncertain: .skip), byDefault: .resend)
        #expect(welcomeThatSkips.onUncertain == .skip)
    }

    @Test("After a send: sent, suppressed, refused, retried, uncertain by policy, out of time")
    func afterSend() {
        let chat = Chat(id: 1, type: "private")
        let sent = SendOutcome.sent([Message(messageID: 77, chat: chat, date: 0)])
        #expect(UnitDecisions.afterSend(sent, policy: .skip) == .next(.sent(messageID: 77), sent: true))
        #expect(
            UnitDecisions.afterSend(.suppressed(reason: "blocked"), policy: .skip)
                == .note(.suppressed, .skipped("chat suppressed (blocked)")))
        let forbidden = TelegramError(code: .forbidden, method: "sendMessage", errorCode: 403, detail: "bot was blocked")
        #expect(
            UnitDecisions.afterSend(.failed(forbidden), policy: .resend)
                == .note(.suppressed, .skipped("chat suppressed (bot was blocked)")))
        let bad = TelegramError(code: .badRequest, method: "sendMessage", errorCode: 400, detail: "message is too long")
        #expect(UnitDecisions.afterSend(.failed(bad), policy: .resend) == .note(.failed, .failed("message is too long")))

        // Answered with a status: known not sent, tried again whatever the policy.
        let status = TelegramError(code: .transient, method: "sendMessage", errorCode: 502, detail: "Bad Gateway")
        for policy in FlowSend.OnUncertain.allCases {
            #expect(
                UnitDecisions.afterSend(.retryLater(after: .seconds(2), error: status, maybeSent: false), policy: policy)
                    == .leave(.retry(after: .seconds(2), "telegram: transient")))
        }
        // On the wire when the answer was lost: the policy decides.
        let lost = TelegramError(code: .transient, method: "sendMessage", detail: "timeout", mayHaveTakenEffect: true)
        #expect(
            UnitDecisions.afterSend(.retryLater(after: nil, error: lost, maybeSent: true), policy: .skip) == .uncertainSkipped)
        #expect(
            UnitDecisions.afterSend(.retryLater(after: nil, error: lost, maybeSent: true), policy: .resend)
                == .leave(.retry(after: nil, "telegram: transient")))
        #expect(
            UnitDecisions.afterSend(.outOfTime, policy: .skip)
                == .leave(.deferred(after: nil, "out of time before the message could leave")))
    }

    @Test("After a transition: moved goes on; a refusal ends a must-move unit and is noted otherwise")
    func afterTransition() {
        #expect(
            UnitDecisions.afterTransition(.moved(from: .idle, version: 3), target: .paid, mustMove: true)
                == .next(.moved(version: 3), sent: false))
        #expect(
            UnitDecisions.afterTransition(.alreadyThere(version: 5), target: .paid, mustMove: true)
                == .stop(.skipped("already paid"), .skipped("already paid")))
        #expect(
            UnitDecisions.afterTransition(.alreadyThere(version: 5), target: .paid, mustMove: false)
                == .next(.alreadyThere(version: 5), sent: false))
        #expect(
            UnitDecisions.afterTransition(.refused(current: .paid), target: .idle, mustMove: true)
                == .stop(.skipped("state is paid"), .skipped("state is paid")))
        #expect(
            UnitDecisions.afterTransition(.refused(current: nil), target: .idle, mustMove: false)
                == .next(.refused, sent: false))
    }

    @Test("A guarded send (a reminder) leaves only while the user is in its phase and cycle")
    func stateGuard() {
        let awaiting = UserState(phase: .awaitingPayment, version: 4, updatedAtMs: 0)
        let guardOf4 = FlowSend.StateGuard(phase: .awaitingPayment, version: 4)
        #expect(UnitDecisions.mayLeave(nil, current: nil))
        #expect(UnitDecisions.mayLeave(guardOf4, current: awaiting))
        #expect(!UnitDecisions.mayLeave(guardOf4, current: UserState(phase: .paid, version: 5, updatedAtMs: 0)))
        #expect(!UnitDecisions.mayLeave(guardOf4, current: UserState(phase: .awaitingPayment, version: 6, updatedAtMs: 0)))
        #expect(!UnitDecisions.mayLeave(guardOf4, current: nil))
        #expect(UnitDecisions.mayLeave(.init(phase: .awaitingPayment, version: nil), current: awaiting))
        // The engine guards reminders with the cycle they were scheduled for.
        let plan = FlowEngine(flow: .defaults).plan(
            .reminder(step: FlowDefinition.defaults.reminders[0].step, cycle: 4), phase: .awaitingPayment, stateVersion: 4)
        guard case .send(let send)? = plan.steps.first else {
            Issue.record("\(plan)")
            return
        }
        #expect(send.onlyWhile == guardOf4)
    }

    @Test("A replay plans with the recorded phase, version and offer; a first run records the current ones")
    func planBasis() {
        let current = UserState(phase: .paid, version: 9, updatedAtMs: 0)
        let replay = UnitDecisions.planBasis(recorded: .plan(phase: .awaitingPayment, version: 4, topic: "basic"), current: current, topic: "vip")
        #expect(replay.phase == .awaitingPayment && replay.version == 4 && replay.topic == "basic" && !replay.record)
        // Recorded with no offer: none, whatever the user picked since.
        let none = UnitDecisions.planBasis(recorded: .plan(phase: .idle, version: 4, topic: ""), current: current, topic: "vip")
        #expect(none.topic == nil && !none.record)
        // Recorded before offers were: the current one.
        let older = UnitDecisions.planBasis(recorded: .plan(phase: .idle, version: 4), current: current, topic: "vip")
        #expect(older.topic == "vip" && !older.record)
        let first = UnitDecisions.planBasis(recorded: nil, current: current, topic: "vip")
        #expect(first.phase == .paid && first.version == 9 && first.topic == "vip" && first.record)
        let nobody = UnitDecisions.planBasis(recorded: nil, current: nil, topic: nil)
        #expect(nobody.phase == nil && nobody.version == nil && nobody.topic == nil && nobody.record)
    }

    @Test("What a restored step gives the steps after it")
    func restored() {
        #expect(UnitDecisions.restored(.ensureRecord, .record(id: 12)) == (12, nil))
        #expect(UnitDecisions.restored(.ensureRecord, .legacyNumber(13)) == (13, nil))
        let transition = FlowStep.transition(to: .paid, from: [nil], mustMove: true)
        #expect(UnitDecisions.restored(transition, .moved(version: 6)) == (nil, 6))
        #expect(UnitDecisions.restored(transition, .alreadyThere(version: 7)) == (nil, 7))
        #expect(UnitDecisions.restored(transition, .refused) == (nil, nil))
        #expect(UnitDecisions.restored(skipSend, .sent(messageID: 1)) == (nil, nil))
    }

    @Test("Journal records: every mark and outcome reads back as written, with its version and time")
    func recordsRoundTrip() throws {
        let results: [StepResult] = [
            .plain, .plan(phase: .topicSelected, version: 2), .plan(phase: nil, version: 0), .plan(phase: .paid, version: 3, topic: "vip"),
            .plan(phase: .idle, version: 1, topic: ""), .record(id: 5),
            .moved(version: 3), .alreadyThere(version: 4), .refused, .sent(messageID: 99), .uncertainSkipped,
            .suppressed, .failed, .noRecord, .cancelled(count: 3), .legacyNumber(8),
        ]
        for mark in [StepMark.started] + results.map(StepMark.done) {
            let stored = mark.stored(at: 1_700_000_000_123)
            #expect(StepMark(stored: stored, field: "s1") == mark, "\(stored)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: Any])
            #expect(object["v"] as? Int == 1)
            #expect(object["at"] as? Int64 == 1_700_000_000_123)
        }
        for outcome in [UnitOutcome.done, .skipped("already paid"), .failed("too long"), .unreadable] {
            #expect(UnitOutcome(stored: outcome.stored(at: 1)) == outcome)
        }
    }

    @Test("Journal records of the first format are read; damaged and newer ones are unreadable, never a crash")
    func legacyAndDamaged() {
        #expect(StepMark(stored: "s", field: "s0") == .started)
        #expect(StepMark(stored: "d:", field: "s0") == .done(.plain))
        #expect(StepMark(stored: "d:r", field: "s0") == .done(.refused))
        #expect(StepMark(stored: "d:m:7", field: "s2") == .done(.moved(version: 7)))
        #expect(StepMark(stored: "d:a:7", field: "s2") == .done(.alreadyThere(version: 7)))
        #expect(StepMark(stored: "d:sent:41", field: "s3") == .done(.sent(messageID: 41)))
        #expect(StepMark(stored: "d:ambiguous-skipped", field: "s3") == .done(.uncertainSkipped))
        #expect(StepMark(stored: "d:suppressed", field: "s3") == .done(.suppressed))
        #expect(StepMark(stored: "d:failed", field: "s3") == .done(.failed))
        #expect(StepMark(stored: "d:no-record", field: "s3") == .done(.noRecord))
        #expect(StepMark(stored: "d:12", field: "s1") == .done(.legacyNumber(12)))
        #expect(StepMark(stored: "d:awaiting_payment@3", field: "plan") == .done(.plan(phase: .awaitingPayment, version: 3)))
        #expect(StepMark(stored: "d:@0", field: "plan") == .done(.plan(phase: nil, version: 0)))
        // A plan recorded before offers were: no topic, read as such.
        #expect(
            StepMark(stored: #"{"at":1,"done":{"plan":{"phase":"paid","version":3}},"v":1}"#, field: "plan")
                == .done(.plan(phase: .paid, version: 3)))
        #expect(UnitOutcome(stored: "done") == .done)
        #expect(UnitOutcome(stored: "skipped:state is paid") == .skipped("state is paid"))
        #expect(UnitOutcome(stored: "failed:too long") == .failed("too long"))

        for damaged in [
            "", "x", "d:m:", "d:m:abc", "d:sent:9999999999999999999999", "d:paid@x", "{", "{}", "{\"v\":2,\"at\":1}",
            "{\"v\":1,\"done\":{\"nonsense\":{}}}", "{\"v\":\"1\"}", String(repeating: "{", count: 10_000),
        ] {
            let field = damaged == "d:paid@x" ? "plan" : "s0"
            #expect(StepMark(stored: damaged, field: field) == .unreadable, "\(damaged.prefix(40))")
        }
        for damaged in ["", "finished", "{\"v\":9,\"outcome\":{\"done\":{}}}", "{\"v\":1}"] {
            #expect(UnitOutcome(stored: damaged) == .unreadable)
        }
    }
}
