import Foundation
import Testing
import TollgateCore
import TollgateSimulators
import TollgateTestKit

/// Access periods with both services for real (bot-gateway and poller-scheduler processes, the
/// Telegram simulator in its own process, the NocoDB simulator): payers get personal links and
/// join; one pays again while the period runs and is renewed at the reminder; the other lets it
/// lapse, is shown out, pays again and is re-admitted with a new link.
@Suite("Access periods, both services", .serialized, .timeLimit(.minutes(3)))
struct AccessPeriodProcessTests {
    static let club: Int64 = -100_888

    @Test("ACCESS_PERIOD=20s: renewed by a payment while it runs; lapsed, shown out, paid again, re-admitted")
    func lapseAndRenewal() async throws {
        try await BothServices.with(
            prefix: "gwper",
            flowYAML: """
                renewal_reminders:
                  - step: soon
                    before: 8s
                    text: "Ends {access_until}: {payment_url}"
                """,
            extra: [
                "CLUB_CHAT_ID": String(Self.club), "ACCESS_PERIOD": "20s", "PAYMENTS_DELTA_INTERVAL": "300ms",
                "PAYMENTS_FIRST_CHECK": "300ms", "TELEGRAM_POLL_TIMEOUT": "5s",
            ],
            prepare: { try await $0.addClub(Self.club) }
        ) { both in
            let (telegram, nocodb) = (both.telegram, both.nocodb)
            let renewer = SimUser(id: 810_001, firstName: "Renewer")
            let lapser = SimUser(id: 810_002, firstName: "Lapser")
            let users = [renewer, lapser]
            var sent: [Int64: [RemoteTelegram.Sent]] = [:]
            let texts = { (user: SimUser) in (sent[user.id] ?? []).map { $0.text ?? "" } }
            func refresh() async -> Bool {
                sent = (try? await telegram.sentByChat()) ?? sent
                return true
            }
            func links(_ user: SimUser) -> [String] {
                texts(user).flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "\n" }) }.map(String.init)
                    .filter { $0.hasPrefix("https://t.me/+sim") }
            }
            for user in users { try await telegram.userSends("/start", from: user) }
            #expect(await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                (try? await telegram.sentByChat().count) == 2
            })
            for user in users { try await telegram.userPresses("get_access", from: user) }
            #expect(await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                await refresh() && users.allSatisfy { texts($0).contains { $0.contains("complete the payment") } }
            })
            for user in users { _ = try nocodb.markPaid(table: "users", id: try #require(both.row(of: user))) }
            #expect(await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                await refresh() && users.allSatisfy { links($0).count == 1 }
            })
            for user in users { #expect(try await telegram.join(user.id, club: Self.club, link: links(user)[0]) == "joined") }
            // Each payment was credited: the row's Paid is unticked once access is granted.
            let renewerRow = try #require(both.row(of: renewer))
            #expect(await eventually(timeout: .seconds(10)) { nocodb.row(table: "users", id: renewerRow)?["Paid"] == .bool(false) })
            // The renewer pays again while the period runs: found at the reminder, renewed.
            _ = try nocodb.markPaid(table: "users", id: renewerRow)
            #expect(await eventually(timeout: .seconds(40), every: .milliseconds(300)) {
                await refresh() && texts(renewer).contains { $0.contains("renewed until") }
            }, "\(texts(renewer))")
            // The lapser gets the reminder, then the lapse: shown out, told how to renew.
            #expect(await eventually(timeout: .seconds(40), every: .milliseconds(300)) {
                await refresh() && texts(lapser).contains { $0.contains("has ended") }
            }, "\(texts(lapser))")
            #expect(texts(lapser).contains { $0.hasPrefix("Ends ") })
            var members = try await telegram.members(of: Self.club)
            #expect(members[lapser.id] == "left")
            #expect(members[renewer.id] == "member", "renewed: never shown out")
            #expect(!texts(renewer).contains { $0.contains("has ended") })
            // The old link lets nobody in.
            #expect(try await telegram.join(810_099, club: Self.club, link: links(lapser)[0]) != "joined")
            // Paying again after the lapse: a new confirmation and a new link.
            _ = try nocodb.markPaid(table: "users", id: try #require(both.row(of: lapser)))
            #expect(await eventually(timeout: .seconds(30), every: .milliseconds(300)) {
                await refresh() && links(lapser).count == 2
            }, "\(texts(lapser))")
            let again = links(lapser)[1]
            #expect(again != links(lapser)[0])
            #expect(try await telegram.join(lapser.id, club: Self.club, link: again) == "joined")
            members = try await telegram.members(of: Self.club)
            #expect(members[lapser.id] == "member" && members[renewer.id] == "member")
            #expect(texts(lapser).filter { $0.hasPrefix("Payment received") }.count == 2)
            #expect(texts(renewer).filter { $0.hasPrefix("Payment received") }.count == 1)
            let stats = try await both.gatewayStats
            #expect(stats["club_lapses_total"] == 1 && stats["club_members_removed_lapsed_total"] == 1)
            #expect(stats["club_renewals_total"] == 2, "one at the reminder, one paid after the lapse")
        }
    }
}
