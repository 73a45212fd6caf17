import Testing
import TollgateCore

@testable import TollgateIPC

/// Job payloads are read through their kind's shape at the door (`schedule`) and at delivery: a
/// bad one is a typed `invalid_payload` naming the member, never a trap.
@Suite struct DueWorkTests {
    @Test func theShapesRoundTrip() throws {
        let works: [DueWork] = [
            .reminder(step: "video-1", cycle: 7), .reminder(step: "r", cycle: nil), .paymentConfirmed(recordID: 17),
            .paymentExpired(recordID: nil), .message(text: "hello"),
        ]
        for work in works {
            #expect(try DueWork(kind: work.kind, payload: work.payload) == work)
        }
    }

    @Test(arguments: [
        ("reminder", ["step": JSONValue.string("r"), "cycle": .number(1e19)], "payload.cycle"),
        ("reminder", ["step": .string("r"), "cycle": .number(-1)], "payload.cycle"),
        ("reminder", ["step": .string("r"), "cycle": .number(1.5)], "payload.cycle"),
        ("reminder", ["step": .number(5)], "payload.step"),
        ("reminder", [:], "payload.step"),
        ("reminder", ["step": .string("no spaces")], "payload.step"),
        ("payment_confirmed", ["record_id": .string("17")], "payload.record_id"),
        ("payment_confirmed", ["record_id": .number(0)], "payload.record_id"),
        ("message", ["text": .string("")], "payload.text"),
        ("message", ["text": .string(String(repeating: "x", count: 4097))], "payload.text"),
        ("message", ["text": .string("hi"), "extra": .bool(true)], "payload.extra"),
        ("nonsense", [:], "kind"),
    ] as [(String, [String: JSONValue], String)])
    func badPayloadsNameTheirMember(kind: String, payload: [String: JSONValue], field: String) {
        do {
            _ = try DueWork(kind: kind, payload: payload)
            Issue.record("accepted \(payload) for \(kind)")
        } catch {
            #expect(error.code == .invalidPayload)
            #expect(error.details?["field"] == .string(field))
            #expect(error.message.contains(field == "kind" ? "kind" : field))
        }
    }

    @Test func scheduleRefusesAnOversizedPayloadAndFarTimes() {
        func refusal(_ s: Schedule) -> IPCError? {
            do throws(IPCError) {
                try s.validate()
                return nil
            } catch { return error }
        }
        let big = Schedule(kind: "message", userID: 1, chatID: 1, delayMs: 0, payload: ["text": .string(String(repeating: "é", count: 4000)), "pad": .string(String(repeating: "x", count: 9000))])
        #expect(refusal(big)?.code == .invalidPayload)
        #expect(refusal(big)?.message.contains("bytes") == true)
        #expect(refusal(Schedule(kind: "message", userID: 1, chatID: 1, delayMs: Int64.max, payload: ["text": .string("x")]))?.code == .invalidRequest)
        #expect(refusal(Schedule(kind: "message", userID: 1, chatID: 1, dueAtMs: Int64.max, payload: ["text": .string("x")]))?.code == .invalidRequest)
        #expect(refusal(Schedule(kind: "message", userID: 1, chatID: 1, delayMs: 5, payload: ["text": .string("x")])) == nil)
        let watch = WatchPayment(userID: 1, chatID: 1, recordID: 3, expiresInMs: Int64.max)
        do throws(IPCError) {
            try watch.validate()
            Issue.record("an endless watch was accepted")
        } catch {
            #expect(error.code == .invalidRequest)
        }
    }

    @Test func aDeliverySizeBoundIsNeverBelowItsEncoding() throws {
        let payloads: [[String: JSONValue]] = [
            ["text": .string("\u{01}\u{02}\"\\ quoted and \u{1F600}")], ["step": .string("r"), "cycle": .number(9_007_199_254_740_992)],
            ["record_id": .number(17)], [:],
        ]
        for payload in payloads {
            let d = Delivery(jobID: "job:\u{7}x", epoch: .max, kind: "message", userID: .min, chatID: .max, attempt: .max, dueAtMs: .max, payload: payload)
            let encoded = try IPCCoding.encode(d).count
            #expect(d.encodedSizeBound >= encoded, "\(payload)")
        }
    }
}
