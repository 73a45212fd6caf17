import Logging
import Synchronization
import Testing
import TollgateCore
import TollgateIPC
import TollgateJobs
import TollgateRedis
import TollgateTestKit

@testable import TollgateScheduler

/// A gateway link that "crashes" (the connection drops, no answer) whenever a frame holds a
/// poison job, and answers `delivered` otherwise — what a gateway that traps on one payload does.
final class CrashingGatewayLink: GatewayLink {
    let poison: Set<String>
    private let state = Mutex<(frames: [[String]], delivered: [String: Int])>(([], [:]))

    init(poison: Set<String>) { self.poison = poison }

    func deliver(_ deliveries: [Delivery], timeout: Duration) async throws(IPCError) -> [DeliveryResult] {
        let ids = deliveries.map(\.jobID)
        let crashed = state.withLock { s -> Bool in
            s.frames.append(ids)
            if ids.contains(where: poison.contains) { return true }
            for id in ids { s.delivered[id, default: 0] += 1 }
            return false
        }
        if crashed { throw IPCError(.connectionClosed, "the gateway closed the connection") }
        return ids.map { DeliveryResult(jobID: $0, outcome: .delivered) }
    }

    var frames: [[String]] { state.withLock { $0.frames } }
    var delivered: [String: Int] { state.withLock { $0.delivered } }
}

@Suite(.serialized) struct PoisonJobTests {
    @Test func aJobThatCrashesTheGatewayIsDeadLetteredAndItsBatchMatesAreDelivered() async throws {
        let redis = try RedisServer()
        let url = try RedisURL(redis.url)
        let keys = KeySpace(prefix: "poison")
        let client = RedisClient(url: url, name: "test", logger: quiet)
        let store = JobStore(redis: .client(client), keys: keys)
        let link = CrashingGatewayLink(poison: ["poison"])
        var settings = SchedulerSettings(
            batchSize: 50, lease: .seconds(10), retryBase: .milliseconds(20), retryCap: .milliseconds(50),
            gatewayBackoffCap: .milliseconds(200))
        settings.maxDrops = 3
        let dispatcher = JobDispatcher(
            store: JobStore(redis: .client(RedisClient(url: url, name: "dispatch", logger: quiet)), keys: keys),
            gateway: link, subscriber: RedisSubscriber(url: url, name: "wake", logger: quiet), settings: settings,
            worker: "test", logger: quiet)
        for i in 0..<20 {
            _ = try await store.schedule(JobSpec(
                    id: "job-\(i)", kind: "message", userID: 1, chatID: 1, due: .after(.zero), payload: ["text": .string("hi")]))
        }
        _ = try await store.schedule(JobSpec(
                id: "poison", kind: "message", userID: 2, chatID: 2, due: .after(.zero), payload: ["text": .string("boom")]))
        let running = Task { try await dispatcher.run() }
        let settled = await eventually(timeout: .seconds(30)) {
            let depth = try? await store.depth()
            return depth?.dead == 1 && depth?.scheduled == 0 && depth?.leased == 0
        }
        running.cancel()
        _ = await running.result
        #expect(settled, "frames: \(link.frames)")
        // Every innocent job delivered exactly once; the poison job never.
        #expect(link.delivered.count == 20)
        #expect(link.delivered.values.allSatisfy { $0 == 1 })
        #expect(link.delivered["poison"] == nil)
        let dead = try await store.deadLetters()
        #expect(dead.map(\.jobID) == ["poison"])
        #expect(dead.first?.reason.contains("connection dropped 3 times") == true)
        // It was isolated: after the first crash (in its batch) it only ever travelled alone, and
        // its third drop in all ended it.
        let poisonFrames = link.frames.filter { $0.contains("poison") }
        #expect(poisonFrames.count == 3)
        #expect(poisonFrames.first?.count == 21)
        #expect(poisonFrames.dropFirst().allSatisfy { $0 == ["poison"] })
        redis.stop()
    }

    @Test func aDroppedConnectionAloneChargesNothingOnItsBatchMates() {
        // The pure part: the plan puts suspects alone and keeps the rest together in order.
        func job(_ id: String, drops: Int = 0, text: Int = 1) -> ClaimedJob {
            ClaimedJob(
                id: id, epoch: 1, kind: "message", userID: 1, chatID: 1, dueAtMs: 0, attempt: 1, maxAttempts: 10,
                payload: ["text": .string(String(repeating: "x", count: text))], drops: drops)
        }
        let plan = DeliveryPlan([job("a"), job("b", drops: 1), job("c"), job("d")], maxFrameBytes: 1 << 20)
        #expect(plan.frames.map { $0.map(\.id) } == [["a"], ["b"], ["c", "d"]])
        #expect(plan.oversized.isEmpty)
    }

    @Test func framesStayWithinTheFrameLimit() throws {
        func job(_ i: Int) -> ClaimedJob {
            ClaimedJob(
                id: "j\(i)", epoch: 1, kind: "message", userID: 1, chatID: 1, dueAtMs: 0, attempt: 1, maxAttempts: 10,
                payload: ["text": .string(String(repeating: "\u{1}", count: 4000))])
        }
        let jobs = (0..<100).map(job)
        let limit = 256 * 1024
        let plan = DeliveryPlan(jobs, maxFrameBytes: limit)
        #expect(plan.frames.count > 1)
        #expect(plan.frames.flatMap { $0 }.map(\.id) == jobs.map(\.id))
        for frame in plan.frames {
            let bytes = try IPCCoding.frame(IPCRequestEnvelope(id: "x", type: Deliver.type, body: Deliver(deliveries: frame.map(\.delivery))))
            #expect(bytes.count <= limit)
        }
        let huge = ClaimedJob(
            id: "huge", epoch: 1, kind: "message", userID: 1, chatID: 1, dueAtMs: 0, attempt: 1, maxAttempts: 10,
            payload: ["text": .string(String(repeating: "x", count: 100_000))])
        #expect(DeliveryPlan([huge], maxFrameBytes: 64 * 1024).oversized.map(\.id) == ["huge"])
    }
}
