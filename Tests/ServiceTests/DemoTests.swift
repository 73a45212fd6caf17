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
            "--telegram-fail-rate", "0.3",
        ])
        let context = Comment(rawValue: String(run.output.suffix(4000)))
        #expect(run.status == 0, context)
        #expect((run.summary["problems"] as? [Any])?.isEmpty == true, context)
        let users = run.summary["users"] as? [String: Double] ?? [:]
        #expect(users["total"] == 40 && users["arrived"] == 40 && users["linked"] == 40, context)
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
            "--webhook", "--telegram-fail-rate", "0.1",
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
    }

    @Test("Batch polling mode, one poller: the same promises")
    func batchMode() async throws {
        let run = try await demo(["--users", "20", "--duration", "15s", "--reminder-after", "5s", "--pollers", "1", "--mode", "batch"])
        let context = Comment(rawValue: String(run.output.suffix(4000)))
        #expect(run.status == 0, context)
        #expect((run.summary["problems"] as? [Any])?.isEmpty == true, context)
        let payments = run.summary["payments"] as? [String: Any] ?? [:]
        let users = run.summary["users"] as? [String: Double] ?? [:]
        #expect(payments["confirmed_once"] as? Double == users["paid"], context)
    }

    @Test("Bad options are refused with a clear message")
    func badOptions() async throws {
        let run = try await demo(["--mode", "sometimes"])
        #expect(run.status != 0)
        #expect(run.output.contains("--mode is delta or batch"), Comment(rawValue: run.output))
        let rate = try await demo(["--telegram-fail-rate", "1.5"])
        #expect(rate.status != 0)
        #expect(rate.output.contains("--telegram-fail-rate is a share of calls"), Comment(rawValue: rate.output))
    }
}
