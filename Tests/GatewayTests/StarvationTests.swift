import Foundation
import Testing
import TollgateCore
import TollgateHTTP
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// A slowloris attack on the ops port of a real bot-gateway: 3,000 connections, half silent, half
/// trickling a request head that never ends, reopened as fast as the gateway closes them. The
/// gateway runs with 1,024 descriptors (systemd's default without the units' `LimitNOFILE`) and
/// its defaults otherwise: the connection cap and the read deadlines must keep descriptors for
/// what matters. Meanwhile users arrive through the webhook (its own listener), their state goes
/// to Redis, their replies to Telegram, and the poller delivers jobs over IPC — all of it must
/// keep working, and the ops port must answer again once the attack stops.
@Suite("HTTP starvation", .serialized, .timeLimit(.minutes(4)))
struct StarvationTests {
    @Test func aSlowlorisOnTheOpsPortLeavesIPCRedisSendingAndTheWebhookWorking() async throws {
        let ownLimit = raiseOwnFileLimit()
        let attackers = min(3000, ownLimit - 1000)
        try #require(attackers >= 1500, "this process may open only \(ownLimit) descriptors")
        let opsPort = TestNetwork.freePort()
        let hookPort = TestNetwork.freePort()
        let h = try await ProcessHarness(
            flowYAML: "",
            extra: [
                "GATEWAY_HTTP": "127.0.0.1:\(opsPort)",
                "WEBHOOK_URL": "http://127.0.0.1:\(hookPort)/tg/hook", "WEBHOOK_LISTEN": "127.0.0.1:\(hookPort)",
                "WEBHOOK_SECRET": "Starve_Secret-1",
            ],
            fileLimit: 1024)
        let flood = ConnectionFlood(port: UInt16(opsPort), count: attackers)
        do {
            try await h.startGateway()
            let pid = try #require(h.gateway.withLock { $0 }?.pid)
            #expect(await eventually(timeout: .seconds(20)) { (try? await h.telegram.stats()["webhook_url"]?.stringValue) != nil })

            flood.start()
            // The attack is on: every attacker has connected once, and the gateway holds as many
            // as its cap allows.
            #expect(await eventually(timeout: .seconds(60)) {
                let held = (try? await h.snapshot().gauges["http_ops_connections_open"]) ?? 0
                return flood.counters.opened >= attackers && held >= 500
            }, "the flood never filled the ops listener: \(flood.counters)")

            // For longer than the head deadline (10 s): users through the webhook (state in Redis,
            // replies through Telegram) and jobs from the poller over IPC, two of each a second.
            let users = (1...30).map { SimUser(id: Int64(880_000 + $0), firstName: "S\($0)") }
            let chats = (1...30).map { Int64(890_000 + $0) }
            try await h.telegram.addUsers(chats)
            for (user, chat) in zip(users, chats) {
                try await h.telegram.userSends("/start", from: user)
                try h.poller.enqueue(
                    Schedule(jobID: "starve:\(chat)", kind: "message", userID: chat, chatID: chat, delayMs: 0, payload: ["text": .string("Hello \(chat)")]))
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(await eventually(timeout: .seconds(45)) {
                let sent = (try? await h.telegram.sentByChat()) ?? [:]
                return users.allSatisfy { sent[$0.id]?.count == 1 } && h.poller.pendingJobCount == 0
            }, "users or jobs were not served under the attack")
            #expect(h.poller.counters.outcomes["delivered"] == chats.count)
            let sent = try await h.telegram.sentByChat()
            for user in users { #expect(sent[user.id]?.count == 1, "user \(user.id)") }

            // The attack was real: refused over the cap, silent and trickling heads cut by the deadline.
            let during = try await h.snapshot()
            let counters = flood.counters
            #expect((during.counters["http_ops_connections_refused_total"] ?? 0) > 0)
            #expect((during.counters["http_ops_timeouts_head_total"] ?? 0) > 0)
            #expect(counters.closedByServer > attackers / 2, "\(counters)")
            #expect(during.counters["webhook_unauthorized_total"] ?? 0 == 0)

            // Over: the ops port answers again.
            await flood.stop()
            let http = HTTPClient(name: "ops", logger: quietLogger)
            defer { http.shutdown() }
            #expect(await eventually(timeout: .seconds(15)) {
                (try? await http.execute(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(opsPort)/health")).status) == 200
            })
            #expect(h.gateway.withLock { $0 }?.process.isRunning == true)
            #expect(h.gateway.withLock { $0 }?.pid == pid)
            #expect(!h.logs().contains("Too many open files"), "the gateway ran out of descriptors")
        } catch {
            Issue.record("\(error)\n\(ServiceProcess.tail(of: h.logs(), limit: 3000))")
        }
        await flood.stop()
        await h.stop()
    }
}
