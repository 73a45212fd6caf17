import Foundation
import Logging
import ServiceLifecycle
import Testing
import TollgateCore
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// Both services against a Telegram and a NocoDB that misbehave on a third of their requests —
/// malformed, truncated and mistyped JSON, 200s with error bodies, HTML pages, 40 MiB bodies,
/// trickled bodies, absurd headers, 429 storms with `Retry-After` up to 10^20 s — while people
/// use the bot. Every process stays up, faults are logged without flooding, and once the peers
/// heal everything pending completes: every user answered, every payment confirmed, no reminder
/// twice, and a repeat only where a spoiled reply left a send uncertain — counted from what the
/// simulators saw.
@Suite("Hostile peers", .serialized, .timeLimit(.minutes(6)))
struct HostilePeersTests {
    @Test func bothServicesSurviveHostilePeersAndCatchUpWhenTheyHeal() async throws {
        try await BothServices.with(
            prefix: "hostile",
            flowYAML: "reminders:\n  - step: nudge\n    delay: 8s\n    text: \"Nudge\"\n",
            extra: [
                "PAYMENTS_DELTA_INTERVAL": "300ms", "PAYMENTS_FIRST_CHECK": "300ms", "TELEGRAM_POLL_TIMEOUT": "2s",
                // The storm's absurd waits are cut to these (the defaults, 5 min and 1 h, would
                // outlast the test): what the clamp is for.
                "NOCODB_MAX_RETRY_AFTER": "3s", "NOCODB_THROTTLE_BLOCK": "1s", "TELEGRAM_MAX_RETRY_AFTER": "3s",
                "SEND_RETRY_DELAYS": "200ms,500ms,1s", "LOG_LEVEL": "notice",
            ]
        ) { both in
            let (telegram, nocodb, gateway, poller) = (both.telegram, both.nocodb, both.gateway, both.poller)
            let pids = (gateway.pid, poller.pid)
            let users = (1...16).map { SimUser(id: Int64(700_000 + $0), firstName: "H\($0)") }
            let payers = Array(users.prefix(8))

            // Hostile: a third of every request to either peer.
            try await telegram.post("/_sim/hostile", #"{"rate": 0.4, "seed": 11}"#)
            nocodb.setHostility(SimHostility(rate: 0.4, seed: 12))
            for user in users { try await telegram.userSends("/start", from: user) }
            var pressed: Set<Int64> = []
            var paid: Set<Int64> = []
            let hostileUntil = ContinuousClock.now + .seconds(40)
            while ContinuousClock.now < hostileUntil {
                try await Task.sleep(for: .seconds(2))
                let sent = (try? await telegram.sentByChat()) ?? [:]
                for user in users where !pressed.contains(user.id) && !(sent[user.id] ?? []).isEmpty {
                    if (try? await telegram.userPresses("get_access", from: user)) != nil { pressed.insert(user.id) }
                }
                for user in payers where pressed.contains(user.id) && !paid.contains(user.id) {
                    if let row = both.row(of: user), (try? nocodb.markPaid(table: "users", id: row)) != nil {
                        paid.insert(user.id)
                    }
                }
            }
            // Both processes lived through it.
            #expect(gateway.process.isRunning && poller.process.isRunning, "a service died")
            #expect((gateway.pid, poller.pid) == pids)

            // Healed: what is pending completes.
            try await telegram.post("/_sim/hostile", #"{"rate": 0}"#)
            nocodb.setHostility(.none)
            var sent: [Int64: [RemoteTelegram.Sent]] = [:]
            let texts = { (user: SimUser) in (sent[user.id] ?? []).map { $0.text ?? "" } }
            #expect(await eventually(timeout: .seconds(90), every: .milliseconds(500)) {
                sent = (try? await telegram.sentByChat()) ?? [:]
                return users.allSatisfy { !(sent[$0.id] ?? []).isEmpty }
            }, "unanswered: \(users.filter { (sent[$0.id] ?? []).isEmpty }.map(\.id))")
            for user in users where !pressed.contains(user.id) {
                if (try? await telegram.userPresses("get_access", from: user)) != nil { pressed.insert(user.id) }
            }
            #expect(await eventually(timeout: .seconds(90), every: .milliseconds(500)) {
                sent = (try? await telegram.sentByChat()) ?? [:]
                return users.allSatisfy { texts($0).contains { $0.contains("complete the payment") } }
            }, "\(users.map { texts($0) })")
            for user in payers where !paid.contains(user.id) {
                let row = try #require(both.row(of: user))
                _ = try nocodb.markPaid(table: "users", id: row)
            }
            let confirmations = { (user: SimUser) in texts(user).filter { $0.hasPrefix("Payment received") }.count }
            #expect(await eventually(timeout: .seconds(90), every: .milliseconds(500)) {
                sent = (try? await telegram.sentByChat()) ?? [:]
                return payers.allSatisfy { confirmations($0) >= 1 }
            }, "\(payers.map { texts($0) })")
            try await Task.sleep(for: .seconds(10))  // the unpaid users' reminders fall due
            sent = try await telegram.sentByChat()
            // A spoiled reply to a send that Telegram carried out leaves it uncertain: a reply to
            // the user (link, confirmation) is sent again — and the resend's reply may be spoiled
            // too — a reminder is not. So a user sees each reply at least once, a reminder once at
            // most, and every repeat or missing reminder is one of the uncertain sends the gateway
            // counted.
            let ambiguous = Int(try await both.gatewayStats["flow_uncertain_sends_total"] ?? 0)
            var repeats = 0
            for user in users {
                let links = texts(user).filter { $0.contains("complete the payment") }.count
                #expect(texts(user).filter { $0 == "Nudge" }.count <= 1, "\(texts(user))")
                #expect(links >= 1, "\(texts(user))")
                repeats += links - 1
            }
            for user in payers {
                #expect(confirmations(user) >= 1, "\(texts(user))")
                repeats += confirmations(user) - 1
            }
            let missingNudges = users.suffix(8).filter { !texts($0).contains("Nudge") }.count
            #expect(repeats + missingNudges <= ambiguous, "\(repeats) repeats, \(missingNudges) reminders missing, \(ambiguous) uncertain sends")
            #expect(gateway.process.isRunning && poller.process.isRunning)
            #expect((gateway.pid, poller.pid) == pids)

            // Every kind of fault was met, and each is logged without flooding: far fewer
            // warning lines than spoiled replies.
            var injected: [String: Int64] = [:]
            if case .object(let members)? = try await telegram.get("/_sim/hostile")["injected"] {
                for (name, value) in members { injected[name] = value.int64Value ?? 0 }
            }
            let telegramFaults = injected.values.reduce(0, +)
            let nocodbFaults = nocodb.hostileInjected.values.reduce(0, +)
            let kinds = Set(injected.keys).union(nocodb.hostileInjected.keys)
            #expect(kinds.count == SimHostility.Fault.byDefault.count, "telegram \(injected), nocodb \(nocodb.hostileInjected)")
            let gatewayLog = gateway.log()
            let pollerLog = poller.log()
            let loud = { (log: String) in log.split(separator: "\n").filter { $0.contains(" WARNING ") || $0.contains(" ERROR ") }.count }
            #expect(Int64(loud(gatewayLog)) < max(60, telegramFaults / 2), "gateway: \(loud(gatewayLog)) lines for \(telegramFaults) faults")
            #expect(Int64(loud(pollerLog)) < max(60, Int64(nocodbFaults) / 2), "poller: \(loud(pollerLog)) lines for \(nocodbFaults) faults")
            #expect(gatewayLog.contains("Telegram asked for a longer wait than allowed"))
            #expect(gatewayLog.contains("Telegram reply unreadable"))
            #expect(pollerLog.contains("NocoDB asked for a longer wait than allowed") || gatewayLog.contains("NocoDB asked for a longer wait than allowed"))
        }
    }
}
