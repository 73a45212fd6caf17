import Foundation
import Testing
import TollgateRuntime
import TollgateTestKit

/// The systemd units in units/: `systemd-analyze verify` finds nothing, the hardening rates
/// ≤ 2.0, and the rules learned the hard way (FACTS.md) hold.
@Suite(.timeLimit(.minutes(2))) struct UnitFileTests {
    static let unitsDirectory: String = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("units").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("units").path
    }()

    static let unitNames = [
        "bot-gateway.socket", "bot-gateway-http.socket", "bot-gateway.service", "poller-scheduler.socket",
        "poller-scheduler@.service",
    ]

    func text(_ name: String) throws -> String {
        try String(contentsOfFile: Self.unitsDirectory + "/" + name, encoding: .utf8)
    }

    /// The units copied to a temporary directory with ExecStart pointing at the built binaries
    /// (verify checks that the executable exists).
    func stagedUnits() throws -> String {
        let dir = TestNetwork.temporaryDirectory(prefix: "units")
        let binDir = URL(fileURLWithPath: try TestBinaries.path(of: "bot-gateway")).deletingLastPathComponent().path
        for name in Self.unitNames {
            let staged = try text(name).replacingOccurrences(of: "/usr/local/bin/", with: binDir + "/")
            try staged.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        }
        return dir
    }

    func run(_ arguments: [String], in directory: String) async throws -> (Int32?, String) {
        let log = directory + "/analyze-\(UUID().uuidString).log"
        let process = try ChildProcess("/usr/bin/systemd-analyze", arguments, output: log)
        let status = await offPool { process.wait(timeout: .seconds(60)) }
        return (status.flatMap(ChildProcess.exitCode), (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test func verifyFindsNothing() async throws {
        let dir = try stagedUnits()
        let units = Self.unitNames.map { dir + "/" + $0.replacingOccurrences(of: "@.service", with: "@1.service") }
        // verify loads instances of a template from the template file next to it.
        let (status, output) = try await run(["verify", "--recursive-errors=no", "--man=no"] + units, in: dir)
        #expect(status == 0)
        let ours = output.split(separator: "\n").filter { line in Self.unitNames.contains { line.contains($0.replacingOccurrences(of: "@.service", with: "@")) } || line.contains("tollgate") }
        #expect(ours.isEmpty, "systemd-analyze verify:\n\(output)")
    }

    @Test(arguments: ["bot-gateway.service", "poller-scheduler@.service"])
    func hardeningExposureAtMostTwo(_ unit: String) async throws {
        let dir = try stagedUnits()
        let (_, output) = try await run(["security", "--offline=yes", dir + "/" + unit], in: dir)
        let line = try #require(output.split(separator: "\n").first { $0.contains("Overall exposure level") }, "\(output)")
        let score = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) })
        #expect(score <= 2.0, "\(line)")
    }

    @Test func factsFromProductionHold() throws {
        for name in Self.unitNames where name.hasSuffix(".socket") {
            let unit = try text(name)
            #expect(!unit.contains("PartOf="), "\(name): PartOf= in a socket unit closes the socket on service restart")
            #expect(unit.contains("Accept=no"), "\(name)")
            #expect(unit.contains("Service="), "\(name): must name the service it activates")
        }
        for name in ["bot-gateway.service", "poller-scheduler@.service"] {
            let unit = try text(name)
            for required in ["Type=notify", "WatchdogSec=", "Restart=on-failure", "TimeoutStopSec=", "LoadCredential=nocodb-token"] {
                #expect(unit.contains(required), "\(name) lacks \(required)")
            }
            #expect(!unit.contains("RuntimeDirectory="), "\(name): sockets under a RuntimeDirectory are deleted on stop")
        }
        // The fd names the binaries look for are the ones the socket units give.
        #expect(try text("bot-gateway.socket").contains("FileDescriptorName=\(ServiceKind.gateway.ipcFDName)\n"))
        #expect(try text("bot-gateway-http.socket").contains("FileDescriptorName=\(ServiceKind.gateway.httpFDName)\n"))
        #expect(try text("poller-scheduler.socket").contains("FileDescriptorName=\(ServiceKind.poller.ipcFDName)\n"))
        #expect(try text("poller-scheduler@.service").contains("Sockets=poller-scheduler.socket\n"))
        #expect(try text("bot-gateway.service").contains("LoadCredential=bot-token"))
        // TimeoutStopSec leaves room for the drain budget.
        for name in ["bot-gateway.service", "poller-scheduler@.service"] {
            let unit = try text(name)
            let stop = unit.split(separator: "\n").first { $0.hasPrefix("TimeoutStopSec=") }.flatMap { Int($0.dropFirst(15).dropLast()) } ?? 0
            let grace = unit.range(of: "SHUTDOWN_GRACE=").map { Int(unit[$0.upperBound...].prefix { $0.isNumber }) ?? 0 } ?? 0
            #expect(stop > grace && grace > 0, "\(name): TimeoutStopSec=\(stop)s must exceed SHUTDOWN_GRACE=\(grace)s")
        }
    }
}
