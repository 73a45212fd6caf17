import Foundation
import Testing
import TollgateCore
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// Both real services, a backlog slower than the poller's patience: twelve different messages
/// for one chat, all due at once — Telegram allows that chat one a second — with the poller's
/// `DELIVER_TIMEOUT` at 3 s. Without the gateway answering within the poller's wait and claiming
/// each unit while it runs, the user got 27 messages for 12 here (29 in the report): the
/// poller gave up, delivered again, and both runs sent. Counted from what the Telegram simulator received.
@Suite("Backlog slower than DELIVER_TIMEOUT", .serialized, .timeLimit(.minutes(3)))
struct BacklogProcessTests {
    @Test func twelveMessagesForOneChatWithAThreeSecondTimeoutArriveOnceEach() async throws {
        try await BothServices.with(
            prefix: "backlog",
            extra: ["TELEGRAM_POLL_TIMEOUT": "2s", "DELIVER_TIMEOUT": "3s", "JOB_RETRY_BASE": "200ms", "LOG_LEVEL": "notice"]
        ) { both in
            let chat: Int64 = 770_001
            try await both.telegram.addUsers([chat])
            let client = IPCClient(path: both.environment["POLLER_SOCKET"]!, logger: quietLogger)
            for n in 1...12 {
                _ = try await client.call(
                    Schedule(
                        jobID: "backlog:\(n)", kind: "message", userID: chat, chatID: chat, delayMs: 0,
                        payload: ["text": .string("Backlog \(n)")]))
            }
            await client.close()
            var texts: [String] = []
            #expect(await eventually(timeout: .seconds(60), every: .milliseconds(250)) {
                texts = ((try? await both.telegram.sentByChat()) ?? [:])[chat]?.map { $0.text ?? "" } ?? []
                return Set(texts).count == 12
            }, "received \(texts)")
            // Anything still running would show up now.
            try await Task.sleep(for: .seconds(4))
            texts = try await both.telegram.sentByChat()[chat]?.map { $0.text ?? "" } ?? []
            #expect(texts.count == 12, "\(texts.count) messages for 12: \(texts)")
            #expect(Set(texts) == Set((1...12).map { "Backlog \($0)" }))
            // The poller never gave up waiting: the gateway answered in parts, in time.
            let pollerStats = try await both.pollerStats
            #expect(pollerStats["gateway_failures_total"] == 0, "\(pollerStats)")
            #expect((pollerStats["jobs_postponed_total"] ?? 0) > 0, "\(pollerStats)")
            #expect(pollerStats["jobs_dead_lettered_total"] == 0)
            #expect(pollerStats["jobs_acked_total"] == 12)
        }
    }
}
