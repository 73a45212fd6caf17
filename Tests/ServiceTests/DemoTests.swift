import Foundation
import Testing
import TollgateTestKit

/// `tollgate demo`, the README's main command, end to end: its own Redis, simulators, a gateway
/// and pollers under its systemd stand-in, simulated people, and chaos — judged by the summary it
/// prints as JSON (counted from what the simulators saw).
@Suite("tollgate demo", .serialized, .timeLimit(.minutes(6)))
struct DemoTests {
    struct Run {
        let status: Int32?
        let summary: [String: Any]
        let output: String
    }

    func demo(_ arguments: [String]) async throws -> Run {
        let tollgate = try TestBinaries.path(of: "tollgate")
        let dir = TestNetwork.temporaryDirectory(prefix: "demo-test")
        let outputPath = dir + "/out.txt"
        var env = ProcessInfo.processInfo.environment
        env["TOLLGATE_BIN_DIR"] = URL(fileURLWithPath: tollgate).deletingLastPathComponent().path
        let process = try ChildProcess(
            tollgate, ["demo", "--json", "--directory", dir + "/run", "--every", "2"] + arguments, environment: env, output: outputPath)
        let status = await offPool { process.wait(timeout: .seconds(300)) }
        if status == nil { process.kill9() }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let last = output.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? "{}"
        let summary = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any] ?? [:]
        return Run(status: status.flatMap(ChildProcess.exitCode), summary: summary, output: output)
    }

    @Test("40 people with chaos in a Telegram 5xx storm (30 % of calls): everyone served, every payment confirmed (twice only after an uncertain send), no 429, both killed processes back")
    func chaosRun() async throws {
        let run = try await demo([
            "--users", "40", "--duration", "24s", "--reminder-after", "6s", "--pollers", "2", "--chaos", "--seed", "7",
            "--telegram-fail-rate", "0.3", "--access-period", "off",
        ])
        let context = Comment(rawValue: String(run.output.suffix(4000)))
        #expect(run.status == 0, context)
        #expect((run.summary["problems"] as? [Any])?.isEmpty == true, context)
        let users = run.summary["users"] as? [String: Double] ?? [:]
        #expect(users["total"] == 40 && users["arrived"] == 40 && users["linked"] == 40, context)
        // Periods off: a 10 s period would end before a confirmation held up by the kills.
        #expect(run.summary["periods"] == nil, context)
        let paid = users["paid"] ?? 0
        #expect(paid > 0)
        // Every payment confirmed; twice only where a kill left the confirmation uncertain and its
        // policy (resend) sent it again — counted by the gateway.
        let payments = run.summary["payments"] as? [String: Any] ?? [:]
        let gateway = run.summary["gateway_counters"] as? [String: Double] ?? [:]
        let twice = payments["twice"] as? Double ?? -1
        #expect(payments["missing"] as? Double == 0, context)
        #expect((payments["confirmed_once"] as? Double ?? 0) + twice == paid, context)
        #expect(twice <= gateway["flow_uncertain_resent_total"] ?? 0, context)
        let limits = run.summary["http_429"] as? [String: Double] ?? [:]
        #expect(limits["telegram"] == 0 && limits["nocodb"] == 0, context)
        let restarts = run.summary["restarts"] as? [[String: Any]] ?? []
        #expect(restarts.count == 2, context)
        #expect(restarts.allSatisfy { $0["ready_after_s"] is Double }, context)
        // The leading poller was killed: another instance led after the lock's TTL at most.
        #expect(restarts.last?["new_leader_after_s"] is Double, context)
        let reminders = run.summary["reminders"] as? [String: Double] ?? [:]
        #expect(reminders["after_payment"] == 0 && reminders["twice"] == 0, context)
        #expect(reminders["video_uploads"] == 1, "the reminder video is uploaded once, then sent by file_id")
    }

    @Test("Webhook mode, 10 % of Bot API calls answered 5xx, and chaos: everyone answered, every payment confirmed, no reminder twice")
    func webhookWithTelegramFaults() async throws {
        let run = try await demo([
            "--users", "40", "--duration", "24s", "--reminder-after", "6s", "--pollers", "2", "--chaos", "--seed", "11",
            "--webhook", "--telegram-fail-rate", "0.1", "--access-period", "off", "--broadcast",
        ])
        let context = Comment(rawValue: String(run.output.suffix(4000)))
        #expect(run.status == 0, context)
        #expect((run.summary["problems"] as? [Any])?.isEmpty == true, context)
        #expect(run.summary["webhook"] as? Bool == true)
        #expect((run.summary["telegram_faults_injected"] as? Double ?? 0) > 0, "faults were injected")
        let users = run.summary["users"] as? [String: Double] ?? [:]
        #expect(users["arrived"] == 40 && users["welcomed"] == 40 && users["linked"] == 40, context)
        let payments = run.summary["payments"] as? [String: Any] ?? [:]
        let gateway = run.summary["gateway_counters"] as? [String: Double] ?? [:]
        let twice = payments["twice"] as? Double ?? -1
        #expect(payments["missing"] as? Double == 0, context)
        #expect((payments["confirmed_once"] as? Double ?? 0) + twice == users["paid"], context)
        #expect(twice <= gateway["flow_uncertain_resent_total"] ?? 0, context)
        let reminders = run.summary["reminders"] as? [String: Double] ?? [:]
        #expect(reminders["twice"] == 0 && reminders["after_payment"] == 0, context)
        #expect((gateway["telegram_transient_retries_total"] ?? 0) > 0, "5xx answers were retried: \(gateway)")
        #expect(gateway["flow_uncertain_sends_total"] != nil, "uncertain sends are counted")
        // --broadcast: the campaign midway, through the kill and the 5xx: nobody twice, nobody missing.
        let campaign = run.summary["broadcast"] as? [String: Any] ?? [:]
        #expect(campaign["state"] as? String == "done" && (campaign["total"] as? Double ?? 0) > 0, context)
        #expect(campaign["twice"] as? Double == 0 && campaign["missing"] as? Double == 0, context)
    }

    @Test("Batch polling mode, one poller: the same promises")
    func batchMode() async throws {
        let run = try await demo(["--users", "20", "--duration", "15s", "--reminder-after", "5s", "--pollers", "1", "--mode", "batch"])
        let context = Comment(rawValue: String(run.output.suffix(4000)))
        #expect(run.status == 0, context)
        #expect((run.summary["problems"] as? [Any])?.isEmpty == true, context)
        let payments = run.summary["payments"] as? [String: Any] ?? [:]
        let users = run.summary["users"] as? [String: Double] ?? [:]
        let periods = run.summary["periods"] as? [String: Double] ?? [:]
        // A payment again after a lapse is a payment of its own, confirmed once too.
        #expect(payments["expected"] as? Double == (users["paid"] ?? 0) + (periods["came_back"] ?? 0), context)
        #expect(payments["confirmed_once"] as? Double == payments["expected"] as? Double, context)
    }

    @Test("Access periods by the row's expiry column: renewals before the end keep members inside, a lapse shows them out, a payment after it brings them back with a new link")
    func accessPeriods() async throws {
        let run = try await demo([
            "--users", "40", "--duration", "30s", "--reminder-after", "6s", "--pollers", "2", "--seed", "3",
            "--access-period", "12s", "--period-share", "0.5",
        ])
        let context = Comment(rawValue: String(run.output.suffix(4000)))
        #expect(run.status == 0, context)
        #expect((run.summary["problems"] as? [Any])?.isEmpty == true, context)
        let periods = run.summary["periods"] as? [String: Double] ?? [:]
        let renewing = periods["meant_to_renew"] ?? 0, lapsing = periods["meant_to_lapse"] ?? 0, returning = periods["meant_to_return"] ?? 0
        #expect(periods["access_period_s"] == 12, context)
        #expect(renewing > 0 && lapsing > 0 && returning > 0, "each fate is played: \(periods)")
        // Renewed in time: never shown out, every renewal seen by the bot and thanked.
        #expect(periods["renewers"] == renewing, context)
        #expect((periods["renewals"] ?? 0) >= renewing, context)
        #expect(periods["renewed_messages"] == periods["renewals"], context)
        #expect(periods["renewed_but_shown_out"] == 0, context)
        // Not renewed: shown out and told so; those who paid again are inside again.
        #expect(periods["lapsed_shown_out"] == lapsing + returning, context)
        #expect(periods["stayed_out"] == lapsing, context)
        #expect(periods["came_back"] == returning, context)
        #expect(periods["lapsed_still_inside"] == 0, context)
        #expect((periods["gateway_removed_lapsed"] ?? 0) >= lapsing + returning, context)
        // The invariants at the end: nobody inside without a payment in force, no entitled payer outside.
        let club = run.summary["club"] as? [String: Any] ?? [:]
        #expect(club["inside_unpaid"] as? Double == 0 && club["payers_outside"] as? Double == 0, context)
        let users = run.summary["users"] as? [String: Double] ?? [:]
        let payments = run.summary["payments"] as? [String: Any] ?? [:]
        #expect(payments["expected"] as? Double == (users["paid"] ?? 0) + returning, context)
        #expect(payments["confirmed_once"] as? Double == payments["expected"] as? Double, context)
    }

    @Test("Bad options are refused with a clear message")
    func badOptions() async throws {
        let run = try await demo(["--mode", "sometimes"])
        #expect(run.status != 0)
        #expect(run.output.contains("--mode is delta or batch"), Comment(rawValue: run.output))
        let rate = try await demo(["--telegram-fail-rate", "1.5"])
        #expect(rate.status != 0)
        #expect(rate.output.contains("--telegram-fail-rate is a share of calls"), Comment(rawValue: rate.output))
        for garbage in ["sometimes", "2s", "1.2.3s"] {
            let period = try await demo(["--access-period", garbage])
            #expect(period.status != 0)
            #expect(period.output.contains("--access-period is auto, off or a duration of at least 10 s"), Comment(rawValue: period.output))
        }
        let withoutClub = try await demo(["--access-period", "30s", "--no-club"])
        #expect(withoutClub.status != 0)
        #expect(withoutClub.output.contains("--access-period needs the club's door"), Comment(rawValue: withoutClub.output))
        let share = try await demo(["--period-share", "1.5"])
        #expect(share.status != 0)
        #expect(share.output.contains("--period-share is a share of payers"), Comment(rawValue: share.output))
    }
}
