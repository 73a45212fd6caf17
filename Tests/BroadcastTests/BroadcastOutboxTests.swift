import Logging
import Testing
import TollgateBroadcast
import TollgateCore
import TollgateRedis
import TollgateTestKit

/// The broadcast outbox against a real redis-server: campaigns made once per idempotency key,
/// audiences put in by chunks, batches claimed with a lease and completed in one round trip, a
/// lapsed lease handed to the next claimer and the lapsed holder's completion refused, pause,
/// resume and cancel.
@Suite("Broadcast outbox", .timeLimit(.minutes(2)))
struct BroadcastOutboxTests {
    static func withOutbox(_ body: (BroadcastOutbox) async throws -> Void) async throws {
        let server = try RedisServer()
        let logger = Logger(label: "bc-test") { _ in SwiftLogNoOpLogHandler() }
        let pool = RedisClientPool(url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port)), name: "bc", size: 3, logger: logger)
        try await body(BroadcastOutbox(redis: pool, keys: KeySpace(prefix: "t")))
        await pool.close()
        _ = server
    }

    @Test("A campaign from create to done: once per idempotency key, recipients once each, batches, counts by outcome")
    func lifecycle() async throws {
        try await Self.withOutbox { outbox in
            let made = try await outbox.create(id: "c1", fields: ["text": "Hello {first_name}"], idempotencyKey: "k1")
            #expect(made == .init(id: "c1", created: true))
            // A retried command: the same campaign, nothing made.
            #expect(try await outbox.create(id: "c2", fields: ["text": "again"], idempotencyKey: "k1") == .init(id: "c1", created: false))
            #expect(try await outbox.list() == ["c1"])
            #expect(try await outbox.fields("c1") == ["text": "Hello {first_name}"])

            // 2,500 recipients in chunks of at most 1,000, with repeats: each once, in order.
            let audience = (1...2500).map { Int64($0) }
            var added = 0
            for start in stride(from: 0, to: audience.count, by: BroadcastOutbox.chunk) {
                added += try await outbox.enqueue("c1", recipients: Array(audience[start..<min(audience.count, start + BroadcastOutbox.chunk)]))
            }
            added += try await outbox.enqueue("c1", recipients: [1, 2, 3])
            #expect(added == 2500)
            await #expect(throws: BroadcastError.self) { try await outbox.enqueue("c1", recipients: Array(repeating: 7, count: 1001)) }
            // Nothing is handed out while the audience is being put in.
            #expect(try await outbox.claim("c1", limit: 10, lease: .seconds(30)).recipients.isEmpty)
            try await outbox.seal("c1")
            #expect(try await outbox.running() == ["c1"])
            do throws(BroadcastError) {
                _ = try await outbox.enqueue("c1", recipients: [9999])
                Issue.record("a running campaign took more recipients")
            } catch {
                #expect(error.code == .conflict)
            }

            var seen: [Int64] = []
            while true {
                let batch = try await outbox.claim("c1", limit: 400, lease: .seconds(30))
                if batch.recipients.isEmpty { break }
                #expect(batch.recipients.count <= 400)
                seen += batch.recipients
                var outcomes: [Int64: BroadcastOutbox.Outcome] = [:]
                for user in batch.recipients {
                    outcomes[user] = user % 100 == 0 ? .suppressed : user % 250 == 1 ? .failed("Bad Request: chat not found") : .sent
                }
                #expect(try await outbox.complete("c1", batch: batch, outcomes: outcomes) == batch.recipients.count)
            }
            #expect(seen == audience, "each recipient handed out once, in the order put in")
            #expect(try await outbox.running().isEmpty, "done: no longer running")
            let progress = try #require(try await outbox.progress("c1"))
            #expect(progress.state == .done && progress.total == 2500 && progress.queued == 0 && progress.leased == 0)
            #expect(progress.suppressed == 25 && progress.failed == ["bad_request__chat_not_found": 10], "\(progress.failed)")
            #expect(progress.sent == 2465 && progress.settled == 2500)
            #expect(progress.firstSentAtMs != nil && progress.lastSentAtMs! >= progress.firstSentAtMs!)
            #expect(try await outbox.progress("nope") == nil)
        }
    }

    @Test("A lapsed lease goes to the next claimer first; the lapsed holder's completion is refused; 'later' is back in line")
    func leases() async throws {
        try await Self.withOutbox { outbox in
            _ = try await outbox.create(id: "c", fields: [:], idempotencyKey: "k")
            _ = try await outbox.enqueue("c", recipients: (1...10).map { Int64($0) })
            try await outbox.seal("c")
            let dead = try await outbox.claim("c", limit: 3, lease: .milliseconds(300))
            #expect(dead.recipients == [1, 2, 3])
            // The holder dies: after its lease the three come back, before the rest.
            var next = BroadcastOutbox.Batch(token: "", recipients: [])
            let deadline = ContinuousClock.now + .seconds(20)
            while next.recipients.isEmpty || !next.recipients.contains(1), ContinuousClock.now < deadline {
                if !next.recipients.isEmpty { try await outbox.complete("c", batch: next, outcomes: [:]) }
                try await Task.sleep(for: .milliseconds(100))
                next = try await outbox.claim("c", limit: 3, lease: .seconds(30))
            }
            #expect(Set(next.recipients) == [1, 2, 3], "\(next.recipients)")
            // The lapsed holder wakes up and completes: refused for all three, nothing counted.
            #expect(try await outbox.complete("c", batch: dead, outcomes: [1: .sent, 2: .sent, 3: .sent]) == 0)
            #expect(try await outbox.progress("c")?.sent == 0)
            // The new holder: one sent, one later (back in line, handed out again), one uncertain.
            #expect(try await outbox.complete("c", batch: next, outcomes: [1: .sent, 3: .uncertain]) == 3)
            let again = try await outbox.claim("c", limit: 1, lease: .seconds(30))
            #expect(again.recipients == [2])
            let progress = try #require(try await outbox.progress("c"))
            #expect(progress.sent == 1 && progress.uncertain == 1 && progress.leased == 1 && progress.queued == 7)
        }
    }

    @Test("Two claimers at once never get the same recipient")
    func concurrentClaims() async throws {
        try await Self.withOutbox { outbox in
            _ = try await outbox.create(id: "c", fields: [:], idempotencyKey: "k")
            _ = try await outbox.enqueue("c", recipients: (1...1000).map { Int64($0) })
            try await outbox.seal("c")
            let batches = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let batch = try await outbox.claim("c", limit: 25, lease: .seconds(30))
                            if batch.recipients.isEmpty { return mine }
                            mine += batch.recipients
                            try await outbox.complete("c", batch: batch, outcomes: Dictionary(uniqueKeysWithValues: batch.recipients.map { ($0, .sent) }))
                        }
                    }
                }
                return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
            }
            let all = batches.flatMap { $0 }
            #expect(all.count == 1000 && Set(all).count == 1000)
            #expect(try await outbox.progress("c")?.sent == 1000)
        }
    }

    @Test("Pause, resume, cancel, a start time ahead; what makes no sense is refused with its reason")
    func control() async throws {
        try await Self.withOutbox { outbox in
            _ = try await outbox.create(id: "c", fields: [:], idempotencyKey: "k")
            _ = try await outbox.enqueue("c", recipients: (1...20).map { Int64($0) })
            try await outbox.seal("c")
            try await outbox.change("c", to: .pause)
            try await outbox.change("c", to: .pause)  // idempotent
            #expect(try await outbox.running().isEmpty)
            #expect(try await outbox.claim("c", limit: 5, lease: .seconds(30)).recipients.isEmpty, "paused: nothing handed out")
            try await outbox.change("c", to: .resume)
            #expect(try await outbox.running() == ["c"])
            let batch = try await outbox.claim("c", limit: 5, lease: .seconds(30))
            #expect(batch.recipients.count == 5)
            try await outbox.change("c", to: .cancel)
            let cancelled = try #require(try await outbox.progress("c"))
            #expect(cancelled.state == .cancelled && cancelled.queued == 0 && cancelled.dropped == 15)
            #expect(try await outbox.claim("c", limit: 5, lease: .seconds(30)).recipients.isEmpty)
            // What was in flight is still counted.
            #expect(try await outbox.complete("c", batch: batch, outcomes: Dictionary(uniqueKeysWithValues: batch.recipients.map { ($0, .sent) })) == 5)
            #expect(try await outbox.progress("c")?.sent == 5)
            for (action, code) in [(BroadcastOutbox.Action.resume, BroadcastError.Code.conflict), (.pause, .conflict)] {
                do throws(BroadcastError) {
                    try await outbox.change("c", to: action)
                    Issue.record("\(action) of a cancelled campaign was accepted")
                } catch {
                    #expect(error.code == code && error.message.contains("cancelled"), "\(error)")
                }
            }
            do throws(BroadcastError) {
                try await outbox.change("gone", to: .pause)
                Issue.record("a missing campaign was paused")
            } catch {
                #expect(error.code == .notFound)
            }

            // A start time ahead: running, but nothing handed out before it.
            let later = WallClock.epochMilliseconds() + 3_600_000
            _ = try await outbox.create(id: "d", fields: [:], startAtMs: later, idempotencyKey: "k2")
            _ = try await outbox.enqueue("d", recipients: [1])
            try await outbox.seal("d")
            #expect(try await outbox.progress("d")?.startAtMs == later)
            #expect(try await outbox.claim("d", limit: 5, lease: .seconds(30)).recipients.isEmpty)
            // An empty audience is done at once.
            _ = try await outbox.create(id: "e", fields: [:], idempotencyKey: "k3")
            try await outbox.seal("e")
            #expect(try await outbox.progress("e")?.state == .done)
        }
    }
}
