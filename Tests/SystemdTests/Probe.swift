import Foundation
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `tollgate-systemd-probe` (a test-only executable using TollgateSystemd) and reads its report.
enum Probe {
    struct Report: Codable, Equatable {
        struct FD: Codable, Equatable {
            var fd: Int32
            var name: String
            var unixStream: Bool
            var inetStream: Bool
            var closeOnExec: Bool
        }
        var pid: Int32
        var fds: [FD]
        var listenEnvironmentLeft: Bool
        var notifyEnabled: Bool
        var watchdogMicroseconds: Int64?
        var pingIntervalMicroseconds: Int64?
        var environmentKeys: [String]
        var probeValue: String?
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func executable() throws -> String {
        try TestBinaries.path(of: "tollgate-systemd-probe")
    }

    /// Runs the probe in report mode through `/bin/sh -c '<prelude>; exec probe'`, so that the
    /// prelude can use the probe's own pid (`$$` survives `exec`) — e.g. `export WATCHDOG_PID=$$`.
    static func report(prelude: String = ":", environment: [String: String]) throws -> Report {
        let directory = TestNetwork.temporaryDirectory(prefix: "probe")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reportPath = directory + "/report.json"
        var env = ["PATH": "/usr/bin:/bin", "PROBE_MODE": "report", "PROBE_REPORT": reportPath]
        env.merge(environment) { $1 }
        let process = try ChildProcess(
            "/bin/sh", ["-c", "\(prelude); exec \"$0\"", try executable()], environment: env,
            output: directory + "/out.log")
        guard let status = process.wait(timeout: .seconds(30)), ChildProcess.exitCode(status) == 0 else {
            process.kill9()
            let log = (try? String(contentsOfFile: directory + "/out.log", encoding: .utf8)) ?? ""
            throw Failure(description: "probe failed: \(log)")
        }
        return try read(reportPath)
    }

    /// Waits for the report file and decodes it.
    static func read(_ path: String, timeout: Duration = .seconds(10)) throws -> Report {
        _ = TestNetwork.waitUntil(timeout: timeout) { access(path, F_OK) == 0 }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(Report.self, from: data)
    }
}
