import ServiceLifecycle
import Synchronization
import Testing
import TollgateCore
import TollgateGateway
import TollgateHTTP
import TollgateHTTPServer
import TollgateRedis
import TollgateSimulators
import TollgateTelegram

@Suite("Inbound: webhook and long polling", .timeLimit(.minutes(3)))
struct InboundTests {
    /// Serves `receiver` on a free port for `body`.
    func withWebhook<T>(_ receiver: WebhookReceiver, _ body: (String) async throws -> T) async throws -> T {
        let server = HTTPServer(name: "webhook", target: .tcp(host: "127.0.0.1", port: 0), logger: quietLogger) {
            await receiver.handle($0)
        }
        let group = ServiceGroup(services: [server], logger: quietLogger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            guard case .tcp(_, let port) = try await server.listeningAddress() else { fatalError() }
            defer { Task { await group.triggerGracefulShutdown() } }
            let result = try await body("http://127.0.0.1:\(port)/tg/hook")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    @Test("A wrong or missing webhook secret gets 401 and nothing happens; the right one is recorded and handled")
    func webhookSecret() async throws {
        try await withGateway(startPolling: false) { gw in
            let receiver = WebhookReceiver(
                path: "/tg/hook", secret: Secret("hook-Secret_42"), journal: gw.journal, redis: gw.pool, logger: quietLogger)
            try await withWebhook(receiver) { url in
                let http = HTTPClient(name: "hook-test", logger: quietLogger)
                defer { http.shutdown() }
                let update = Array(#"{"update_id":99,"message":{"message_id":1,"date":1,"chat":{"id":9001,"type":"private"},"from":{"id":9001,"is_bot":false,"first_name":"Eve"},"text":"/start"}}"#.utf8)
                gw.simulator.addUsers([SimUser(id: 9001, firstName: "Eve")])
                for secret in [nil, "wrong", "hook-Secret_4", "hook-Secret_42x"] as [String?] {
                    var headers: [(String, String)] = []
                    if let secret { headers.append(("X-Telegram-Bot-Api-Secret-Token", secret)) }
                    let response = try await http.execute(
                        HTTPRequest(method: "POST", url: url, headers: headers, body: .bytes(update, contentType: "application/json")))
                    #expect(response.status == 401)
                }
                let backlog = try await gw.journal.backlog(gw.pool.next())
                #expect(backlog == 0)
                try await Task.sleep(for: .milliseconds(300))
                #expect(gw.simulator.allSent().isEmpty)
                #expect(receiver.stats.unauthorized == 4)

                // Garbage with the right secret: 400, nothing recorded.
                let garbage = try await http.execute(
                    HTTPRequest(
                        method: "POST", url: url, headers: [("X-Telegram-Bot-Api-Secret-Token", "hook-Secret_42")],
                        body: .bytes(Array("not json".utf8), contentType: "application/json")))
                #expect(garbage.status == 400)

                // The simulator's webhook delivery with the right secret: recorded, handled, sent once even if redelivered.
                try await gw.telegram.setWebhook(url: url, secretToken: "hook-Secret_42")
                gw.simulator.userSends("/start", from: SimUser(id: 9002, firstName: "Zoe"))
                #expect(await eventually { gw.simulator.sent(to: 9002).count == 1 })
                let ok = try await http.execute(
                    HTTPRequest(
                        method: "POST", url: url, headers: [("X-Telegram-Bot-Api-Secret-Token", "hook-Secret_42")],
                        body: .bytes(update, contentType: "application/json")))
                #expect(ok.status == 200)
                let again = try await http.execute(
                    HTTPRequest(
                        method: "POST", url: url, headers: [("X-Telegram-Bot-Api-Secret-Token", "hook-Secret_42")],
                        body: .bytes(update, contentType: "application/json")))
                #expect(again.status == 200)
                #expect(await eventually { gw.simulator.sent(to: 9001).count == 1 })
                try await Task.sleep(for: .milliseconds(300))
                #expect(gw.simulator.sent(to: 9001).count == 1, "a redelivered update is handled once")
                #expect(receiver.stats.duplicates == 1)
            }
        }
    }

    @Test("The offset is committed with the record; a restarted poller continues after it")
    func offsetCommitted() async throws {
        try await withGateway { gw in
            for i in 1...5 { gw.simulator.userSends("/start", from: SimUser(id: Int64(9100 + i))) }
            #expect(await eventually { gw.processor.stats.handled == 5 })
            let committed = try await gw.journal.committedOffset(gw.pool.next())
            #expect(committed != nil)
            #expect(gw.poller.stats.updatesRecorded == 5)
            // Everything confirmed to Telegram by the next poll.
            #expect(await eventually { gw.simulator.pendingUpdateCount == 0 })
            // Recording the same batch again (a poller that crashed before Telegram saw the offset) is a no-op.
            let again = try await gw.journal.record(
                [Update(updateID: committed! - 1)], commitOffset: committed, on: gw.pool.next())
            #expect(again.recorded == 0)
            #expect(again.duplicates == 1)
        }
    }

    @Test("A second poller on the same token: 409s are counted and reported, no update lost or doubled")
    func conflictingPollers() async throws {
        try await withGateway(pollTimeout: 2) { gw in
            // A rogue poller (a second gateway without the leader lock) keeps taking over the long poll.
            let rogue = Task {
                while !Task.isCancelled {
                    _ = try? await gw.telegram.getUpdates(offset: nil, limit: 1, timeout: 1, allowedUpdates: ["poll"])
                }
            }
            #expect(await eventually { gw.poller.stats.conflicts > 0 })
            rogue.cancel()
            _ = await rogue.result
            #expect(gw.poller.recentConflict())
            for i in 1...3 { gw.simulator.userSends("/start", from: SimUser(id: Int64(9200 + i))) }
            #expect(await eventually(timeout: .seconds(60)) { (1...3).allSatisfy { gw.simulator.sent(to: Int64(9200 + $0)).count == 1 } })
        }
    }
}
