import Foundation
import Testing
import TollgateCore
import TollgateHTTP
import TollgateIPC
import TollgateRedis
import TollgateSimulators
import TollgateTestKit

/// bot-gateway as a real process: the whole flow for 1,000 users with a kill -9 in the middle, a
/// burst of 3,000 sends, a blocked user, the webhook's secret, a bad flow file, two gateways.
@Suite("bot-gateway process", .serialized, .timeLimit(.minutes(5)))
struct GatewayProcessTests {
    static let flow = """
        reminders:
          - step: reminder
            delay: 3s
            text: "Still thinking? {payment_url}"
        """

    @Test("1,000 users: /start → Get access → paid, with a kill -9 in the middle")
    func thousandUsers() async throws {
        let h = try await ProcessHarness(flowYAML: Self.flow)
        do {
            try await h.startGateway()
            let users = (1...1000).map { SimUser(id: Int64(100_000 + $0), firstName: "U\($0)") }
            var updateIDs: [Int64] = []
            for user in users { updateIDs.append(try await h.telegram.userSends("/start", from: user)) }
            #expect(await eventually(timeout: .seconds(90), every: .milliseconds(500)) {
                (try? await h.telegram.sentByChat().count) == users.count
            })
            for user in users { updateIDs.append(try await h.telegram.userPresses("get_access", from: user)) }
            // Kill the gateway in the middle of handling the presses, then start it again.
            #expect(await eventually(timeout: .seconds(60), every: .milliseconds(100)) {
                ((try? await h.telegram.stat("messages_accepted")) ?? 0) >= 1000 + 300
            })
            await h.kill9()
            try await h.startGateway()
            let isLink = { (m: RemoteTelegram.Sent) in m.text?.contains("complete the payment") == true }
            #expect(await eventually(timeout: .seconds(90), every: .milliseconds(500)) {
                let sent = (try? await h.telegram.sentByChat()) ?? [:]
                return users.filter { !(sent[$0.id] ?? []).contains(where: isLink) }.count <= 2
            })
            // Every user is watched (the poller side), so every payment can be confirmed.
            #expect(await eventually(timeout: .seconds(30)) { h.poller.watchedUsers.count == 1000 })
            // Let some reminders fall due, then everyone pays.
            try await Task.sleep(for: .seconds(4))
            for user in users { h.poller.confirmPayment(userID: user.id) }
            let isPaid = { (m: RemoteTelegram.Sent) in m.text?.hasPrefix("Payment received") == true }
            #expect(await eventually(timeout: .seconds(120), every: .milliseconds(500)) {
                let sent = (try? await h.telegram.sentByChat()) ?? [:]
                return users.allSatisfy { (sent[$0.id] ?? []).filter(isPaid).count == 1 }
            })
            // Reminders scheduled before the payment must never arrive after it: wait past their delay.
            try await Task.sleep(for: .seconds(4))

            let stats = try await h.stats()
            let ambiguous = Int(stats["flow_uncertain_sends_total"] ?? 0)
            let sentByChat = try await h.telegram.sentByChat()
            var repeats = 0
            for user in users {
                let sent = sentByChat[user.id] ?? []
                let texts = sent.map { $0.text ?? "" }
                // Replies to the user's own action are sent again when a kill left them uncertain:
                // never missing, shown twice at most where the kill hit the request on the wire.
                let welcomes = texts.filter { $0.hasPrefix("Hi U") }.count
                let links = sent.filter(isLink).count
                #expect((1...2).contains(welcomes), "welcome for \(user.id): \(texts)")
                #expect((1...2).contains(links), "payment links for \(user.id): \(texts)")
                repeats += (welcomes - 1) + (links - 1)
                #expect(sent.filter(isPaid).count == 1, "confirmations for \(user.id): \(texts)")
                let reminders = sent.filter { $0.text?.hasPrefix("Still thinking?") == true }
                #expect(reminders.count <= 1, "reminders for \(user.id)")
                let paidAt = sent.first(where: isPaid)?.at ?? .infinity
                #expect(reminders.allSatisfy { $0.at < paidAt }, "a reminder after payment for \(user.id)")
            }
            // A repeat only where the kill hit a request on the wire.
            #expect(repeats <= ambiguous, "repeated replies \(repeats), ambiguous sends \(ambiguous)")
            #expect(ambiguous <= 8, "only requests on the wire at the kill can be ambiguous")
            #expect(h.nocodb.rowCount(table: "users") == 1000, "one row per user, none twice")
            // No update lost: every one of them has an outcome in the gateway's journal.
            let redis = RedisClient(url: try RedisURL(h.redis.url), name: "check", logger: quietLogger)
            var unhandled = 0
            for id in updateIDs {
                let outcome = try await redis.send("HGET", RedisArgument("tollgate:gw:fx:u:\(id)"), "outcome")
                if outcome.isNull { unhandled += 1 }
            }
            await redis.close()
            #expect(unhandled == 0)
            let stats2 = try await h.telegram.stats()
            #expect(stats2["flood_refusals"]?.int64Value == 0, "429s: \(stats2["flood_refusals_by_scope"] ?? .null)")
            #expect(stats2["pending_updates"]?.int64Value == 0)
        } catch {
            Issue.record("\(error)\n\(ServiceProcess.tail(of: h.logs(), limit: 3000))")
        }
        await h.stop()
    }

    @Test("3,000 sends in a burst: zero 429s; a blocked user is tried once, then suppressed")
    func burst() async throws {
        let h = try await ProcessHarness(flowYAML: "")
        do {
            try await h.startGateway()
            let chats = (1...3000).map { Int64(200_000 + $0) }
            try await h.telegram.addUsers(chats + [300_001])
            try await h.telegram.block(300_001)
            for chat in chats + [300_001] {
                try h.poller.enqueue(
                    Schedule(jobID: "news:\(chat)", kind: "message", userID: chat, chatID: chat, delayMs: 0, payload: ["text": .string("News \(chat)")]))
            }
            #expect(await eventually(timeout: .seconds(150)) { h.poller.pendingJobCount == 0 })
            let simStats = try await h.telegram.stats()
            #expect(simStats["messages_accepted"]?.int64Value == 3000)
            #expect(simStats["flood_refusals"]?.int64Value == 0, "429s: \(simStats["flood_refusals_by_scope"] ?? .null)")
            #expect(h.poller.counters.outcomes["delivered"] == 3000)
            #expect(h.poller.results(of: "news:300001") == [.skipped])
            try h.poller.enqueue(
                Schedule(jobID: "news2:300001", kind: "message", userID: 300_001, chatID: 300_001, delayMs: 0, payload: ["text": .string("again")]))
            #expect(await eventually(timeout: .seconds(20)) { h.poller.results(of: "news2:300001") == [.skipped] })
            #expect(try await h.telegram.stat("forbidden") == 1, "the blocked user was tried once")
            let stats = try await h.stats()
            #expect(stats["telegram_sends_skipped_suppressed_total"] == 1)
            #expect(stats["telegram_rate_limited_total"] == 0)
        } catch {
            Issue.record("\(error)\n\(ServiceProcess.tail(of: h.logs(), limit: 3000))")
        }
        await h.stop()
    }

    @Test("A bad flow file is refused at start, naming the file, the line and the reason")
    func badFlowFile() async throws {
        let dir = TestNetwork.temporaryDirectory(prefix: "gwf")
        let flow = dir + "/flow.yaml"
        try "welcome:\n  text: hi\nreminders:\n  - step: r\n    delay: soon\n    text: x\n".write(toFile: flow, atomically: true, encoding: .utf8)
        var env = ServiceProcess.environment(redisURL: "redis://127.0.0.1:9/0", directory: dir)
        env["FLOW_FILE"] = flow
        let process = try ChildProcess(try TestBinaries.path(of: "bot-gateway"), [], environment: env, output: dir + "/out.log")
        let status = await offPool { process.wait(timeout: .seconds(30)) }
        #expect(status.flatMap(ChildProcess.exitCode) == 78)
        let output = (try? String(contentsOfFile: dir + "/out.log", encoding: .utf8)) ?? ""
        #expect(output.contains("FLOW_FILE: \(flow) line 5: reminders[0].delay: 'soon' is not a duration"), "\(output)")
        #expect(!output.contains("TEST-token"), "no secret in the refusal")
    }

    @Test("Two gateways on one bot: one polls (no 409s); kill -9 of the leader, the other takes over")
    func twoGateways() async throws {
        let h = try await ProcessHarness(flowYAML: "")
        do {
            try await h.startGateway()
            let second = try await h.startExtraGateway(instance: "gw-second", socket: h.directory + "/gateway2.sock")
            let sockets = [h.directory + "/gateway.sock", h.directory + "/gateway2.sock"]
            var roles: [String] = []
            #expect(await eventually(timeout: .seconds(20)) {
                roles = await sockets.asyncMap { (try? await h.snapshot(socket: $0).info["role"]) ?? "?" }
                return roles.sorted() == ["follower", "leader"]
            }, "roles: \(roles)")
            let first = (1...100).map { SimUser(id: Int64(400_000 + $0)) }
            for user in first { try await h.telegram.userSends("/start", from: user) }
            #expect(await eventually(timeout: .seconds(30)) { (try? await h.telegram.sentByChat().count) == 100 })
            #expect(try await h.telegram.stat("conflicts") == 0, "only the leader polls")

            // kill -9 whichever leads; the other takes over within the lock's TTL (5 s here).
            if roles[0] == "leader" { await h.kill9() } else { await second.kill9() }
            let survivor = roles[0] == "leader" ? sockets[1] : sockets[0]
            let later = (1...100).map { SimUser(id: Int64(410_000 + $0)) }
            for user in later { try await h.telegram.userSends("/start", from: user) }
            #expect(await eventually(timeout: .seconds(30)) { (try? await h.telegram.sentByChat().count) == 200 })
            let sent = try await h.telegram.sentByChat()
            for user in first + later { #expect(sent[user.id]?.count == 1, "\(user.id)") }
            let snapshot = try await h.snapshot(socket: survivor)
            #expect(snapshot.info["role"] == "leader")
            #expect(snapshot.counters["telegram_conflicts_total"] == 0)
            // The dead leader's long poll, still waiting at Telegram, is ended by the survivor's: at most one 409.
            #expect(try await h.telegram.stat("conflicts") <= 1)
            await second.stop()
        } catch {
            Issue.record("\(error)\n\(ServiceProcess.tail(of: h.logs(), limit: 3000))")
        }
        await h.stop()
    }

    @Test("Webhook mode: a wrong secret gets 401 and nothing happens; Telegram's deliveries are handled")
    func webhookSecret() async throws {
        let port = TestNetwork.freePort()
        let h = try await ProcessHarness(
            flowYAML: "",
            extra: [
                "WEBHOOK_URL": "http://127.0.0.1:\(port)/tg/hook", "WEBHOOK_LISTEN": "127.0.0.1:\(port)",
                "WEBHOOK_SECRET": "Sim_Secret-42",
            ])
        do {
            try await h.startGateway()
            #expect(await eventually(timeout: .seconds(20)) { (try? await h.telegram.stats()["webhook_url"]?.stringValue) != nil })
            try await h.telegram.addUsers([4242])
            let forged = Array(#"{"update_id":1,"message":{"message_id":1,"date":1,"chat":{"id":4242,"type":"private"},"from":{"id":4242,"is_bot":false,"first_name":"Mallory"},"text":"/start"}}"#.utf8)
            let http = HTTPClient(name: "forger", logger: quietLogger)
            defer { http.shutdown() }
            for secret in [nil, "Sim_Secret-41", ""] as [String?] {
                var headers: [(String, String)] = []
                if let secret { headers.append(("X-Telegram-Bot-Api-Secret-Token", secret)) }
                let response = try await http.execute(
                    HTTPRequest(method: "POST", url: "http://127.0.0.1:\(port)/tg/hook", headers: headers, body: .bytes(forged, contentType: "application/json")))
                #expect(response.status == 401)
            }
            try await Task.sleep(for: .seconds(1))
            #expect(try await h.telegram.sentByChat()[4242] == nil, "nothing happened")
            let stats = try await h.stats()
            #expect(stats["webhook_unauthorized_total"] == 3)
            #expect(stats["updates_handled_total"] ?? 0 == 0)
            // The real thing, through the simulator's webhook delivery with the right secret.
            try await h.telegram.userSends("/start", from: SimUser(id: 4343, firstName: "Real"))
            #expect(await eventually(timeout: .seconds(20)) { (try? await h.telegram.sentByChat()[4343]?.count) == 1 })
        } catch {
            Issue.record("\(error)\n\(ServiceProcess.tail(of: h.logs(), limit: 3000))")
        }
        await h.stop()
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var out: [T] = []
        for element in self { out.append(await transform(element)) }
        return out
    }
}
