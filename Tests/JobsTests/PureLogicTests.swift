import Testing
import TollgateIPC
import TollgateJobs

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(base: .seconds(1), cap: .seconds(60))

    func job(attempt: Int, max: Int = 10) -> ClaimedJob {
        ClaimedJob(
            id: "j", epoch: 1, kind: "reminder", userID: 1, chatID: 1, dueAtMs: 0, attempt: attempt, maxAttempts: max,
            payload: [:])
    }

    @Test func exponentialWithEqualJitterAndCap() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, unit: 0) == .milliseconds(500))
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, unit: 1) == .seconds(1))
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil, unit: 1) == .seconds(4))
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil, unit: 0) == .seconds(2))
        #expect(policy.delay(afterAttempt: 30, retryAfter: nil, unit: 1) == .seconds(60))
        #expect(policy.delay(afterAttempt: 30, retryAfter: nil, unit: 0) == .seconds(30))
    }

    @Test func neverSoonerThanRetryAfter() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(7), unit: 1) == .seconds(7))
        #expect(policy.delay(afterAttempt: 8, retryAfter: .seconds(7), unit: 1) == .seconds(60))
    }

    @Test func outcomes() {
        let ok = DeliveryResult(jobID: "j", outcome: .delivered)
        #expect(policy.completion(for: ok, job: job(attempt: 1), unit: 0.5) == .ack)
        #expect(policy.completion(for: .init(jobID: "j", outcome: .duplicate), job: job(attempt: 1), unit: 0) == .ack)
        #expect(policy.completion(for: .init(jobID: "j", outcome: .skipped), job: job(attempt: 1), unit: 0) == .ack)
        #expect(
            policy.completion(for: .init(jobID: "j", outcome: .failed, detail: "bad payload"), job: job(attempt: 1), unit: 0)
                == .deadLetter(reason: "failed: bad payload"))
        let retry = DeliveryResult(jobID: "j", outcome: .retry, retryAfterMs: 3000, detail: "429")
        #expect(
            policy.completion(for: retry, job: job(attempt: 2, max: 3), unit: 0) == .retry(after: .seconds(3), reason: "429"))
        #expect(
            policy.completion(for: retry, job: job(attempt: 3, max: 3), unit: 0)
                == .deadLetter(reason: "retry: 429 (attempt 3 of 3)"))
    }
}

@testable import TollgateJobs

@Suite struct PayloadParserTests {
    @Test func agreesWithJSONDecoderOnWhatTheStoreWrites() throws {
        let samples: [[String: JSONValue]] = [
            [:], ["step": .string("reminder")], ["record_id": .number(42)],
            [
                "text": .string("Привет, \"мир\" \\ / \n\t é 😀 \u{01}"), "n": .number(-1.5e-3), "big": .number(1_795_000_300_000),
                "flags": .array([.bool(true), .bool(false), .null]), "nested": .object(["a": .array([]), "b": .object([:])]),
            ],
        ]
        for sample in samples {
            let text = String(decoding: try IPCCoding.encode(sample), as: UTF8.self)
            #expect(PayloadParser.object(text) == sample, "\(text)")
            #expect(JobStore.decodePayload(text) == sample)
        }
    }

    @Test func refusesWhatIsNotOneObject() {
        for bad in ["", "[]", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x", "{\"a\":\"\\x\"}", "{\"a\":+1}", "{\"a\":tru}",
            "{\"a\":\"\\ud800\"}", "\"s\""]
        {
            #expect(PayloadParser.object(bad) == nil, "\(bad)")
        }
        #expect(PayloadParser.object(" { \"a\" : [ 1 , 2 ] } ") == ["a": .array([.number(1), .number(2)])])
    }
}
