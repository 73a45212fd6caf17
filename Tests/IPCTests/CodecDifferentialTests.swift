import Foundation
import Testing
import TollgateIPC

/// The IPC codec against Foundation's coders (`.sortedKeys` + `.withoutEscapingSlashes`): the
/// same bytes out, the same values back, on every message type and on random values.
@Suite struct CodecDifferentialTests {
    /// Encodes with both, expects identical bytes, and decodes those bytes with both.
    func check<T: Codable & Equatable>(_ value: T, _ label: @autoclosure () -> String = "") throws {
        let expected = try Reference.encode(value)
        let actual = try IPCCoding.encode(value)
        guard actual == expected else {
            Issue.record(
                "\(label()): the codec wrote\n\(String(decoding: actual, as: UTF8.self))\nFoundation wrote\n\(String(decoding: expected, as: UTF8.self))")
            return
        }
        let ours = try IPCCoding.decode(T.self, from: expected)
        #expect(ours == value, "\(label()): read back differently")
        #expect(ours == (try Reference.decode(T.self, expected)), "\(label()): Foundation reads it differently")
    }

    @Test func everyMessageTypeWithTypicalValues() throws {
        let delivery = Delivery(
            jobID: "reminder:4242:1", epoch: 3, kind: "reminder", userID: 4242, chatID: -1_004_242, attempt: 1,
            dueAtMs: 1_795_000_300_000, payload: ["step": .string("reminder"), "record_id": .number(17), "text": .string("a/b \"c\"")])
        try check(IPCRequestEnvelope(id: "d-1", type: Deliver.type, body: Deliver(deliveries: [delivery, delivery])))
        try check(
            IPCOkEnvelope(
                id: "d-1",
                body: Deliver.Reply(results: [
                    DeliveryResult(jobID: "a", outcome: .delivered),
                    DeliveryResult(jobID: "b", outcome: .retry, retryAfterMs: 3000, detail: "flood\nlimit"),
                    DeliveryResult(jobID: "c", outcome: .failed, detail: "bad payload"),
                ])))
        try check(IPCRequestEnvelope(id: "h", type: Hello.type, body: Hello(versions: [1, 2, 3], service: "s", instance: "i@1")))
        try check(
            IPCOkEnvelope(
                id: "h",
                body: Hello.Reply(version: 1, versions: [1], service: "g", instance: "g", startedAtMs: Int64.max, maxFrameBytes: 1 << 20)))
        try check(IPCRequestEnvelope(id: "e", type: Health.type, body: Health()))
        try check(
            IPCOkEnvelope(
                id: "e",
                body: Health.Reply(
                    status: .degraded, live: true, ready: false, uptimeS: 0.1,
                    checks: ["redis": .init(ok: false, detail: "down", latencyMs: 1e-7), "ipc": .init(ok: true, latencyMs: 3600)])))
        let snapshot = Stats.Snapshot(
            service: "poller-scheduler", instance: "poller@1", uptimeS: 12.5, counters: ["a": 1, "b": 1e16, "c": 0.25],
            gauges: ["g": -0.0], info: ["role": "leader", "url": "http://x/y"])
        try check(IPCOkEnvelope(id: "s", body: Stats.Reply(snapshot, instances: [snapshot, snapshot])))
        try check(IPCOkEnvelope(id: "s", body: Stats.Reply(snapshot)))
        try check(
            IPCRequestEnvelope(
                id: "sc", type: Schedule.type,
                body: Schedule(jobID: "j", dedupeKey: "k", kind: "message", userID: 1, chatID: 2, dueAtMs: 3, payload: [:], maxAttempts: 4)))
        try check(IPCRequestEnvelope(id: "sc", type: Schedule.type, body: Schedule(kind: "reminder", userID: 1, chatID: 2, delayMs: 5)))
        try check(IPCOkEnvelope(id: "sc", body: Schedule.Reply(jobID: "j", created: false, dueAtMs: 0)))
        try check(IPCRequestEnvelope(id: "c", type: Cancel.type, body: Cancel(jobID: "j")))
        try check(IPCOkEnvelope(id: "c", body: Cancel.Reply(cancelled: 0)))
        try check(
            IPCOkEnvelope(
                id: "u",
                body: UserJobs.Reply(jobs: [
                    .init(jobID: "j", kind: "k", chatID: 1, dueAtMs: 2, attempts: 3, state: .leased, payload: ["x": .array([.null, .bool(false)])])
                ])))
        try check(IPCRequestEnvelope(id: "w", type: WatchPayment.type, body: WatchPayment(userID: 1, chatID: 1, telegramID: "@x")))
        try check(IPCOkEnvelope(id: "w", body: UnwatchPayment.Reply(removed: false)))
        try check(
            IPCErrorEnvelope(
                id: nil,
                error: IPCError(
                    .unsupportedVersion, "protocol version 9 is not supported", retryAfterMs: 15,
                    details: .object(["supported": .array([.number(1)]), "nested": .object(["x": .number(0.5)])]))))
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func randomMessages(seed: UInt64) throws {
        var r = RandomValues(rng: SeededGenerator(seed: seed))
        for round in 0..<150 {
            let deliveries = (0..<r.int(1...5)).map { _ in
                Delivery(
                    jobID: r.string(), epoch: r.int64(), kind: r.string(), userID: r.int64(), chatID: r.int64(),
                    attempt: r.int(Int.min...Int.max), dueAtMs: r.int64(), payload: r.payload())
            }
            try check(IPCRequestEnvelope(id: r.string(), type: Deliver.type, body: Deliver(deliveries: deliveries)), "seed \(seed) round \(round)")
            let results = deliveries.map {
                DeliveryResult(
                    jobID: $0.jobID, outcome: [.delivered, .duplicate, .skipped, .failed, .retry][r.int(0...4)],
                    retryAfterMs: r.optional { $0.int64() }, detail: r.optional { $0.string(maxLength: 40) })
            }
            try check(IPCOkEnvelope(id: r.string(), body: Deliver.Reply(results: results)), "seed \(seed) round \(round)")
            let schedule = Schedule(
                jobID: r.optional { $0.string() }, dedupeKey: r.optional { $0.string() }, kind: r.string(), userID: r.int64(),
                chatID: r.int64(), dueAtMs: r.optional { $0.int64() }, delayMs: r.optional { $0.int64() }, payload: r.payload(),
                maxAttempts: r.optional { $0.int(-5...500) })
            try check(IPCRequestEnvelope(id: r.string(), type: Schedule.type, body: schedule), "seed \(seed) round \(round)")
            var maps: [[String: Double]] = []
            for _ in 0..<2 { maps.append(Dictionary((0..<r.int(0...6)).map { _ in (r.string(maxLength: 5), r.double()) }, uniquingKeysWith: { a, _ in a })) }
            let snapshot = Stats.Snapshot(
                service: r.string(), instance: r.string(), uptimeS: r.double(), counters: maps[0], gauges: maps[1],
                info: Dictionary((0..<r.int(0...4)).map { _ in (r.string(maxLength: 5), r.string()) }, uniquingKeysWith: { a, _ in a }))
            try check(IPCOkEnvelope(id: r.string(), body: Stats.Reply(snapshot, instances: r.optional { _ in [snapshot] })), "seed \(seed) round \(round)")
            let error = IPCError(IPCErrorCode(rawValue: r.string()), r.string(maxLength: 30), retryAfterMs: r.optional { $0.int64() }, details: r.optional { $0.json() }.flatMap { $0 == .null ? nil : $0 })
            // (details `null` would read back as absent: a property of the type, not of the coders)
            try check(IPCErrorEnvelope(id: r.optional { $0.string() }, error: error), "seed \(seed) round \(round)")
        }
    }

    @Test(arguments: [UInt64(11), 12, 13, 14])
    func randomJSONValueTrees(seed: UInt64) throws {
        var r = RandomValues(rng: SeededGenerator(seed: seed))
        for round in 0..<400 {
            try check(r.json(), "seed \(seed) round \(round)")
            try check(r.payload(), "seed \(seed) round \(round)")
        }
    }

    @Test(arguments: [UInt64(21), 22])
    func randomScalars(seed: UInt64) throws {
        var r = RandomValues(rng: SeededGenerator(seed: seed))
        for round in 0..<500 {
            try check([r.string(maxLength: 30)], "seed \(seed) round \(round)")
            try check([r.int64(), r.int64()], "seed \(seed) round \(round)")
            try check([r.double(), r.double()], "seed \(seed) round \(round)")
            try check([Float(r.double())].filter(\.isFinite), "seed \(seed) round \(round)")
            let pairs = [(r.string(maxLength: 3), r.int64()), (r.string(maxLength: 3), 0)]
            try check(Dictionary(pairs, uniquingKeysWith: { a, _ in a }), "seed \(seed) round \(round)")
        }
        // Each character of the alphabet alone, as a string and as a key (escaping and key order).
        for c in RandomValues.alphabet {
            try check(c)
            try check(Dictionary([(c, c), ("a" + c, c), (c + c, c)], uniquingKeysWith: { a, _ in a }))
        }
        try check(String((0..<0x20).map { Character(UnicodeScalar(UInt8($0))) }))
    }

    @Test func integerAndFloatExtremes() throws {
        try check([Int8.min, Int8.max])
        try check([UInt8.max])
        try check([Int16.min, Int16.max])
        try check([Int32.min, Int32.max])
        try check([UInt32.max])
        try check([Int.min, Int.max])
        try check([UInt.max, 0])
        try check([UInt64.max])
        try check([Float.greatestFiniteMagnitude, Float.leastNonzeroMagnitude, -0.0, 0.1, 3])
        try check([Double.greatestFiniteMagnitude, Double.leastNonzeroMagnitude, Double.leastNormalMagnitude, -0.0, 1e15, 1e16, -1e15])
        try check([JSONValue.number(1e15), .number(-1e15), .number(999_999_999_999_999), .number(-0.0), .number(1e300), .number(Double.leastNonzeroMagnitude)])
    }
}
