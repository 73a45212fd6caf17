import Foundation
import Logging
import ServiceLifecycle
import Testing
import TollgateCore
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// Both services for real: bot-gateway and poller-scheduler processes against the Telegram and
/// NocoDB simulators. A user pays by their NocoDB row turning Paid — as a payment system or a
/// human does it — and the poller notices and has the gateway welcome them.
@Suite("bot-gateway + poller-scheduler", .serialized, .timeLimit(.minutes(3)))
struct SystemFlowTests {
    @Test("100 users: /start → Get access → the row turns Paid → one confirmation each, reminders only while unpaid")
    func paidThroughNocoDB() async throws {
        try await BothServices.with(
            prefix: "gwsys",
            flowYAML: "reminders:\n  - step: nudge\n    delay: 4s\n    text: \"Nudge\"\n",
            extra: [
                "PAYMENTS_DELTA_INTERVAL": "300ms", "PAYMENTS_FIRST_CHECK": "300ms", "TELEGRAM_POLL_TIMEOUT": "5s",
            ]
        ) { both in
            let (telegram, nocodb) = (both.telegram, both.nocodb)
            let users = (1...100).map { SimUser(id: Int64(800_000 + $0), firstName: "S\($0)") }
            for user in users { try await telegram.userSends("/start", from: user) }
            #expect(await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                (try? await telegram.sentByChat().count) == 100
            })
            for user in users { try await telegram.userPresses("get_access", from: user) }
            var sent: [Int64: [RemoteTelegram.Sent]] = [:]
            let texts = { (user: SimUser) in (sent[user.id] ?? []).map { $0.text ?? "" } }
            #expect(await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                sent = (try? await telegram.sentByChat()) ?? [:]
                return users.allSatisfy { texts($0).contains { $0.contains("complete the payment") } }
            })
            #expect(nocodb.rowCount(table: "users") == 100)
            // The first half pays at once (their rows turn Paid); the rest after their reminder.
            func pay(_ user: SimUser) throws {
                let row = try #require(both.row(of: user))
                _ = try nocodb.markPaid(table: "users", id: row)
            }
            for user in users.prefix(50) { try pay(user) }
            let paid = { (user: SimUser) in texts(user).filter { $0.hasPrefix("Payment received") }.count }
            #expect(await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                sent = (try? await telegram.sentByChat()) ?? [:]
                return users.prefix(50).allSatisfy { paid($0) == 1 }
            })
            #expect(await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                sent = (try? await telegram.sentByChat()) ?? [:]
                return users.suffix(50).allSatisfy { texts($0).contains("Nudge") }
            })
            for user in users.suffix(50) { try pay(user) }
            #expect(await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                sent = (try? await telegram.sentByChat()) ?? [:]
                return users.allSatisfy { paid($0) == 1 }
            })
            try await Task.sleep(for: .seconds(5))
            sent = try await telegram.sentByChat()
            for user in users {
                // A reminder may come before the payment is noticed (a few seconds), never after it.
                let messages = sent[user.id] ?? []
                let paidAt = messages.first { $0.text?.hasPrefix("Payment received") == true }?.at ?? .infinity
                #expect(!messages.contains { $0.text == "Nudge" && $0.at > paidAt }, "a reminder after payment: \(texts(user))")
                #expect(texts(user).filter { $0 == "Nudge" }.count <= 1, "\(texts(user))")
                #expect(paid(user) == 1)
            }
            for user in users.suffix(50) {
                #expect(texts(user).filter { $0 == "Nudge" }.count == 1, "\(texts(user))")
                #expect(paid(user) == 1)
            }
            #expect(try await telegram.stat("flood_refusals") == 0)
            #expect(nocodb.stats().throttled == 0, "no 429 from NocoDB")
        }
    }
}
