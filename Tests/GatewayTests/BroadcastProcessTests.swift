import Foundation
import Testing
import TollgateCore
import TollgateHTTP
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
                (["create", "--text", "Hi", "--to", "all", "--photo", "/nonexistent/poster.png"], "cannot be read"),
                (["create", "--text", "Hi", "--to", "all", "--photo", "file_id:abc", "--video", "file_id:abc"], "one of"),
                (["create", "--text", String(repeating: "x", count: 1025), "--to", "all", "--document", "file_id:abc"], "caption"),
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
                try await Self.expectCampaignMetrics(campaign.id, gateway: gateway)
            } catch {
                Issue.record("\(error)\ngateway:\n\(gateway.logTail())")
            }
            await gateway.stop()
        }
    }

    /// The new gateway's /metrics counts the campaign's messages it sent, labelled by campaign and outcome.
    static func expectCampaignMetrics(_ id: String, gateway: ServiceProcess) async throws {
        let client = IPCClient(path: gateway.socketPath, logger: quietLogger)
        let stats = try await client.call(Stats(), timeout: .seconds(5))
        await client.close()
        let address = try #require(stats.info["http"])
        let http = HTTPClient(name: "metrics", logger: quietLogger)
        defer { http.shutdown() }
        let text = try await http.execute(.get("http://\(address)/metrics")).text
        let lines = text.split(separator: "\n").filter { $0.hasPrefix("tollgate_broadcast_messages_total{") }
        let sent = lines.first { $0.contains("campaign=\"\(id)\"") && $0.contains("outcome=\"sent\"") }
        let count = sent.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
        #expect(count > 0 && Double(stats.counters["broadcast_messages_sent_total"] ?? -1) == count, "\(lines)")
    }
}
