import ServiceLifecycle
import Synchronization
import Testing
import TollgateCore
import TollgateGateway
import TollgateHTTP
import TollgateHTTPServer
import TollgateRedis
import TollgateTelegram
import TollgateTestKit

@Suite("Outbound sender", .timeLimit(.minutes(2)))
struct OutboundSenderTests {
    /// A Bot API that answers sendMessage after `delay`.
    final class SlowAPI: Sendable {
        let delay: Duration
        let received = Atomic<Int>(0)
        init(delay: Duration) { self.delay = delay }
        func handle(_ request: HTTPServerRequest) async -> HTTPServerResponse {
            received.wrappingAdd(1, ordering: .relaxed)
            try? await Task.sleep(for: delay)
            return .text(
                #"{"ok":true,"result":{"message_id":7,"date":1,"chat":{"id":5,"type":"private"},"text":"hi"}}"#,
                contentType: "application/json")
        }
    }

    final class Flag: Sendable {
        let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .relaxed) }
        var isSet: Bool { value.load(ordering: .relaxed) }
    }

    @Test("A send that has left is not cut off by cancelling the caller: its outcome is known")
    func departedSendsFinish() async throws {
        let api = SlowAPI(delay: .milliseconds(400))
        let server = HTTPServer(name: "slow", target: .tcp(host: "127.0.0.1", port: 0), logger: quietLogger) { await api.handle($0) }
        let group = ServiceGroup(services: [server], logger: quietLogger)
        let redis = try RedisServer()
        let pool = RedisClientPool(url: try RedisURL(redis.url), name: "sender", size: 1, logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            guard case .tcp(_, let port) = try await server.listeningAddress() else { return }
            let http = HTTPClient(name: "sender", logger: quietLogger)
            defer { http.shutdown() }
            let sender = OutboundSender(
                telegram: TelegramClient(token: Secret("5:TEST-x"), apiURL: "http://127.0.0.1:\(port)", http: http, logger: quietLogger),
                limiter: NoLimits(), suppression: SuppressionList(redis: pool, keys: KeySpace(prefix: "o")), logger: quietLogger)
            let departed = Flag()
            let sending = Task {
                try await sender.send(.text("hi", to: 5)) { departed.set() }
            }
            #expect(await eventually { api.received.load(ordering: .relaxed) == 1 })
            sending.cancel()
            let outcome = try await sending.value
            #expect(outcome.wasSent, "\(outcome)")
            #expect(departed.isSet)
            #expect(sender.stats.sent == 1)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await pool.close()
    }
}
