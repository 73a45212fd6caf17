import Testing
import TollgateCore
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// Deliveries whose payloads break their kind's shape — as a Redis edited by hand or an older
/// poller could send them — reach the real bot-gateway process: each is answered `failed` with the
/// rule it breaks (the poller dead-letters it), the good ones in the same frame are delivered, and
/// the process stays up. (Before, `"cycle": 1e19` trapped the gateway at every redelivery.)
@Suite("Hostile deliveries to the real gateway", .serialized, .timeLimit(.minutes(3)))
struct HostileDeliveryTests {
    @Test func badPayloadsAreFailedWithTheirReasonAndTheGatewayStaysUp() async throws {
        let h = try await ProcessHarness(flowYAML: "")
        do {
            try await h.startGateway()
            try await h.telegram.addUsers([41, 42, 43, 44, 45, 46])
            let pid = try #require(h.gateway.withLock { $0?.pid })
            func d(_ id: String, _ kind: String, _ user: Int64, _ payload: [String: JSONValue]) -> Delivery {
                Delivery(jobID: id, epoch: 1, kind: kind, userID: user, chatID: user, attempt: 1, dueAtMs: 0, payload: payload)
            }
            let frame = Deliver(deliveries: [
                d("huge-cycle", "reminder", 41, ["step": .string("reminder"), "cycle": .number(1e19)]),
                d("wrong-type", "reminder", 42, ["step": .number(5)]),
                d("long-text", "message", 43, ["text": .string(String(repeating: "x", count: 5000))]),
                d("unknown-kind", "poem", 44, [:]),
                d("extra", "message", 45, ["text": .string("hi"), "html": .bool(true)]),
                d("good", "message", 46, ["text": .string("hello")]),
            ])
            let client = IPCClient(path: h.directory + "/gateway.sock", logger: quietLogger)
            let reply = try await client.call(frame, timeout: .seconds(30))
            let outcomes = Dictionary(uniqueKeysWithValues: reply.results.map { ($0.jobID, $0) })
            for (id, field) in [
                ("huge-cycle", "payload.cycle"), ("wrong-type", "payload.step"), ("long-text", "payload.text"),
                ("unknown-kind", "kind"), ("extra", "payload.html"),
            ] {
                #expect(outcomes[id]?.outcome == .failed, "\(id)")
                #expect(outcomes[id]?.detail?.contains(field) == true, "\(id): \(outcomes[id]?.detail ?? "-")")
            }
            #expect(outcomes["good"]?.outcome == .delivered)
            // The same frame again: the failures stay failures (nothing trapped, nothing sent), the
            // good job is a duplicate.
            let again = try await client.call(frame, timeout: .seconds(30))
            #expect(again.results.first { $0.jobID == "good" }?.outcome == .duplicate)
            #expect(again.results.filter { $0.outcome == .failed }.count == 5)
            await client.close()
            #expect(h.gateway.withLock { $0?.process.isRunning } == true)
            #expect(h.gateway.withLock { $0?.pid } == pid)
            let sent = try await h.telegram.sentByChat()
            #expect(sent[46]?.count == 1)
            #expect([41, 42, 43, 44, 45].allSatisfy { sent[$0] == nil })
        } catch {
            Issue.record("\(error)\n\(ServiceProcess.tail(of: h.logs(), limit: 3000))")
        }
        await h.stop()
    }
}
