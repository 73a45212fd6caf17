import Testing
import TollgateTestKit

/// `SystemdNotifier.watchdogInterval` reads the real environment through `sd_watchdog_enabled`,
/// so each case runs the probe as a child process with its own environment.
@Suite struct WatchdogEnvironmentTests {
    @Test func enabledForOurPid() throws {
        let report = try Probe.report(prelude: "export WATCHDOG_PID=$$", environment: ["WATCHDOG_USEC": "2000000"])
        #expect(report.watchdogMicroseconds == 2_000_000)
        #expect(report.pingIntervalMicroseconds == 1_000_000)
    }

    @Test func enabledWithoutWatchdogPid() throws {
        let report = try Probe.report(environment: ["WATCHDOG_USEC": "30000000"])
        #expect(report.watchdogMicroseconds == 30_000_000)
        #expect(report.pingIntervalMicroseconds == 15_000_000)
    }

    @Test func disabledForAnotherPid() throws {
        let report = try Probe.report(
            prelude: "export WATCHDOG_PID=$PPID", environment: ["WATCHDOG_USEC": "2000000"])
        #expect(report.watchdogMicroseconds == nil)
        #expect(report.pingIntervalMicroseconds == nil)
    }

    @Test(arguments: [[:], ["WATCHDOG_USEC": "0"], ["WATCHDOG_USEC": "soon"]])
    func disabledWhenUnsetOrInvalid(environment: [String: String]) throws {
        let report = try Probe.report(environment: environment)
        #expect(report.watchdogMicroseconds == nil)
    }

    @Test func notifyIsOffWithoutNotifySocket() throws {
        #expect(try Probe.report(environment: [:]).notifyEnabled == false)
        #expect(try Probe.report(environment: ["NOTIFY_SOCKET": ""]).notifyEnabled == false)
        #expect(try Probe.report(environment: ["NOTIFY_SOCKET": "/run/x.sock"]).notifyEnabled == true)
    }

    @Test func listenFdsNeedOurPid() throws {
        // fd 3 exists (/dev/null) but LISTEN_PID names the parent shell: not ours.
        let report = try Probe.report(
            prelude: "exec 3</dev/null; export LISTEN_PID=$PPID", environment: ["LISTEN_FDS": "1"])
        #expect(report.fds.isEmpty)
        #expect(!report.listenEnvironmentLeft)
    }

    @Test func mismatchedNamesFallBackToUnknown() throws {
        // libsystemd refuses LISTEN_FDNAMES with another count than LISTEN_FDS; we keep the fd.
        let report = try Probe.report(
            prelude: "exec 3</dev/null; export LISTEN_PID=$$",
            environment: ["LISTEN_FDS": "1", "LISTEN_FDNAMES": "a:b"])
        #expect(report.fds.map(\.fd) == [3])
        #expect(report.fds.map(\.name) == ["unknown"])
        #expect(report.fds.first?.unixStream == false)
        #expect(report.fds.first?.closeOnExec == true)
        #expect(!report.listenEnvironmentLeft)
    }

    @Test func missingBinaryFailsClearly() {
        let error = #expect(throws: TestBinaries.Missing.self) {
            try TestBinaries.path(of: "no-such-tollgate-binary")
        }
        #expect(error?.description.contains("swift build") == true)
        #expect(error?.searched.isEmpty == false)
    }
}
