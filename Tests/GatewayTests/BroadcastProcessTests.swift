import Foundation
import Testing
import TollgateCore
import TollgateIPC
import TollgateSimulators
import TollgateTestKit

/// A broadcast with both services for real, driven by the `tollgate` CLI: the audience counted by a
/// dry run, the campaign created (twice by a retried command: once), the gateway killed with
/// SIGKILL in the middle of it and started again. Counted from the Telegram simulator: nobody gets
/// it twice, everyone gets it but the sends a crash left uncertain (skipped by default).
@Suite("Broadcast through both services", .serialized, .timeLimit(.minutes(5)))
struct BroadcastProcessTests {
    @Test("A campaign to 80 users with a kill -9 of the gateway midway: each once, none twice; bad input refused before anything is queued")
    func killedMidCampaign() async throws {
        try await BothServices.with(prefix: "bcast", extra: ["TELEGRAM_GLOBAL_RATE": "20"]) { both in
            let telegram = both.telegram
            let users = (0..<80).map { SimUser(id: 860_000 + Int64($0), firstName: "Reader\($0)") }
            for user in users { try await telegram.userSends("/start", from: user) }
            var sent: [Int64: [RemoteTelegram.Sent]] = [:]
            func texts(_ user: SimUser) -> [String] { (sent[user.id] ?? []).map { $0.text ?? "" } }
            func refresh() async -> Bool {
                sent = (try? await telegram.sentByChat()) ?? sent
                return true
            }
            #expect(await eventually(timeout: .seconds(60), every: .milliseconds(200)) { await refresh() && users.allSatisfy { !texts($0).isEmpty } })
            let socket = both.environment["GATEWAY_SOCKET"]!
            let cli = { (arguments: [String]) in try await ClubDoorKillProcessTests.tollgate(["broadcast"] + arguments + ["--gateway", socket], in: both.directory) }

            // Bad input: refused by the CLI, nothing queued.
            let junk = both.directory + "/ids.txt"
            try "860001\nnot-an-id\n".write(toFile: junk, atomically: true, encoding: .utf8)
            for (arguments, says) in [
                (["create", "--text", "Hi", "--to", "nobody"], "--to"),
                (["create", "--text", "Hi {name}", "--to", "all"], "unknown placeholder"),
                (["create", "--text", "Hi", "--ids-file", junk], "line 2"),
                (["create", "--text", "   ", "--to", "all"], "empty"),
                (["create", "--text", "Hi", "--to", "expiring"], "--within"),
                (["create", "--text", "Hi", "--to", "expiring", "--within", "soon"], "--within"),
            ] {
                let (status, output) = try await cli(arguments)
                #expect(status == 64 && output.contains(says), "\(arguments): \(status ?? -1) \(output)")
            }
            let (listed, none) = try await cli(["list"])
            #expect(listed == 0 && none == "no campaigns", "\(none)")

            let (dryStatus, dry) = try await cli(["create", "--text", "Hello {first_name}", "--to", "idle", "--dry-run", "--json"])
            #expect(dryStatus == 0 && (try? IPCCoding.decode(BroadcastCreate.Reply.self, from: Array(dry.utf8)))?.audience == 80, "\(dry)")
            let (createStatus, created) = try await cli(["create", "--text", "Hello {first_name}", "--to", "idle", "--json"])
            let campaign = try #require(try? IPCCoding.decode(BroadcastSummary.self, from: Array(created.utf8)), "\(createStatus ?? -1) \(created)")
            #expect(campaign.total == 80)
            // The same command again (a retry): the same campaign, nothing new.
            let (_, again) = try await cli(["create", "--text", "Hello {first_name}", "--to", "idle", "--json"])
            #expect((try? IPCCoding.decode(BroadcastSummary.self, from: Array(again.utf8)))?.id == campaign.id, "\(again)")

            // As the first messages go out: SIGKILL of the gateway, then a new one.
            let hello = { (user: SimUser) in texts(user).filter { $0 == "Hello \(user.firstName)" }.count }
            #expect(await eventually(timeout: .seconds(60), every: .milliseconds(20)) { await refresh() && users.contains { hello($0) > 0 } })
            await both.gateway.kill9()
            let gateway = try ServiceProcess("bot-gateway", environment: both.environment, logPath: both.directory + "/gateway2.log")
            do {
                try await gateway.waitUntilReady()
                var summary = campaign
                #expect(await eventually(timeout: .seconds(90), every: .milliseconds(300)) {
                    let (_, shown) = (try? await cli(["show", campaign.id, "--json"])) ?? (nil, "")
                    if let s = try? IPCCoding.decode(BroadcastSummary.self, from: Array(shown.utf8)) { summary = s }
                    return summary.state == "done"
                }, "\(summary)")
                _ = await refresh()
                let twice = users.filter { hello($0) > 1 }
                let got = users.filter { hello($0) == 1 }.count
                print("broadcast: \(summary.sent) sent, \(summary.uncertain) uncertain, \(got) of 80 received once, \(twice.count) twice")
                #expect(twice.isEmpty, "received twice: \(twice.map(\.id))")
                #expect(summary.sent + summary.uncertain == 80 && summary.queued == 0, "\(summary)")
                #expect(got >= summary.sent && got <= summary.sent + summary.uncertain)
                let (_, listedNow) = try await cli(["list"])
                #expect(listedNow.contains(campaign.id) && listedNow.contains("done"), "\(listedNow)")
            } catch {
                Issue.record("\(error)\ngateway:\n\(gateway.logTail())")
            }
            await gateway.stop()
        }
    }
}
