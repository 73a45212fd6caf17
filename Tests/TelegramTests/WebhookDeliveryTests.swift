import Synchronization
import Testing
import TollgateCore
import TollgateHTTPServer
import TollgateSimulators
import TollgateTelegram

/// What a test webhook endpoint saw.
final class HookLog: Sendable {
    struct Hit: Sendable {
        var secret: String?
        var updateID: Int64
        var chatID: Int64?
        var text: String?
        var at: ContinuousClock.Instant
    }
    let hits = Mutex<[Hit]>([])
    /// Status codes to answer, in order, before answering 200.
    let script: Mutex<[HTTPServerResponse]>

    /// A text whose first delivery is answered 500.
    let failOnce: Mutex<String?>

    init(script: [HTTPServerResponse] = [], failOnce: String? = nil) {
        self.script = Mutex(script)
        self.failOnce = Mutex(failOnce)
    }

    func handle(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        let update = try? request.jsonBody(Update.self)
        hits.withLock {
            $0.append(
                Hit(
                    secret: request.header("X-Telegram-Bot-Api-Secret-Token"), updateID: update?.updateID ?? -1,
                    chatID: update?.chatID, text: update?.message?.text, at: .now))
        }
        let fail = failOnce.withLock { wanted -> Bool in
            guard let w = wanted, w == update?.message?.text else { return false }
            wanted = nil
            return true
        }
        if fail { return .text("fail once", status: 500) }
        return script.withLock { $0.isEmpty ? .text("ok") : $0.removeFirst() }
    }

    var all: [Hit] { hits.withLock { $0 } }
}

@Suite("Webhook delivery by the simulator", .timeLimit(.minutes(2)))
struct WebhookDeliveryTests {
    @Test("Updates are POSTed with the secret header; non-2xx replies are retried until accepted")
    func deliversAndRetries() async throws {
        let log = HookLog(script: [.text("boom", status: 500), .text("nope", status: 502)])
        try await withHTTPServer(handler: { await log.handle($0) }) { hook in
            try await withSimulator { sim in
                try await sim.telegram.setWebhook(url: hook + "/tg", secretToken: "Sec_ret-1")
                sim.simulator.userSends("hello", from: SimUser(id: 77))
                #expect(await eventually { sim.simulator.pendingUpdateCount == 0 })
                let hits = log.all
                #expect(hits.count == 3)
                #expect(hits.allSatisfy { $0.secret == "Sec_ret-1" })
                #expect(Set(hits.map(\.updateID)).count == 1)
                #expect(hits.last?.text == "hello")
                #expect(sim.simulator.counters.webhookFailures == 2)
                #expect(try await sim.telegram.getWebhookInfo().lastErrorMessage?.contains("502") == true)
            }
        }
    }

    @Test("A 429 from the bot with retry_after is honoured")
    func honoursRetryAfter() async throws {
        let tooMany = HTTPServerResponse(
            status: 429, headers: [("Content-Type", "application/json")],
            body: Array(#"{"ok":false,"error_code":429,"parameters":{"retry_after":2}}"#.utf8))
        let log = HookLog(script: [tooMany])
        try await withHTTPServer(handler: { await log.handle($0) }) { hook in
            try await withSimulator(webhookRetryDelay: .milliseconds(50)) { sim in
                try await sim.telegram.setWebhook(url: hook, secretToken: nil)
                sim.simulator.userSends("slow down", from: SimUser(id: 78))
                #expect(await eventually { log.all.count == 2 })
                let hits = log.all
                #expect(hits[0].secret == nil)
                // The retry came no sooner than the 2 s asked for (not the 50 ms backoff).
                #expect(hits[1].at - hits[0].at >= .milliseconds(1900))
            }
        }
    }

    @Test("One chat's updates arrive in order, one at a time; other chats are not held up")
    func perChatOrder() async throws {
        // The first delivery for chat 1 fails: its second update must wait behind it, chat 2 must not.
        let log = HookLog(failOnce: "1a")
        try await withHTTPServer(handler: { await log.handle($0) }) { hook in
            try await withSimulator(webhookRetryDelay: .milliseconds(500)) { sim in
                sim.simulator.userSends("1a", from: SimUser(id: 1))
                sim.simulator.userSends("1b", from: SimUser(id: 1))
                sim.simulator.userSends("2a", from: SimUser(id: 2))
                try await sim.telegram.setWebhook(url: hook, secretToken: "x")
                #expect(await eventually { sim.simulator.pendingUpdateCount == 0 })
                let texts = log.all.map { $0.text ?? "?" }
                #expect(texts.filter { $0.hasPrefix("1") } == ["1a", "1a", "1b"])
                #expect(texts.firstIndex(of: "2a")! < texts.lastIndex(of: "1a")!)
            }
        }
    }
}
