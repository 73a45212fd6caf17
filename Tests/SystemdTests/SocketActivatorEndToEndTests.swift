import Foundation
import Testing
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

/// The probe (TollgateSystemd inside a real process) under the real `systemd-socket-activate`:
/// fds and names, sd_notify READY / WATCHDOG / STOPPING, the environment the tool passes on.
@Suite struct SocketActivatorEndToEndTests {
    @Test func twoSocketsReadyWatchdogStopping() throws {
        let probe = try Probe.executable()
        let notify = try NotifySocketListener()
        defer { notify.close() }
        let directory = TestNetwork.temporaryDirectory(prefix: "act")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let unixPath = directory + "/ctl.sock"
        let port = TestNetwork.freePort()
        let reportPath = directory + "/report.json"
        let environment = notify.environment.merging([
            "WATCHDOG_USEC": "400000",  // ping every 200 ms
            "PROBE_REPORT": reportPath,
            "TOLLGATE_PROBE_VALUE": "a value with spaces, = and 'quotes'",
        ]) { $1 }

        let activator = try SocketActivator(
            command: probe,
            sockets: [.init(.unix(unixPath), name: "ctl"), .init(.loopback(port: port), name: "web")],
            environment: environment, output: directory + "/out.log")
        defer { activator.stop(grace: .seconds(5)) }
        #expect(activator.waitUntilListening(timeout: .seconds(10)), "\(log(directory))")

        // Accept=no: nothing runs before the first connection.
        usleep(200_000)
        #expect(notify.messages.isEmpty)
        #expect(access(reportPath, F_OK) != 0)

        let beforeStart = ContinuousClock.now  // no ping can have been sent before this
        let first = try activator.connect(to: 0)
        #expect(first.readLine(timeout: .seconds(15)) == "hello ctl \(activator.pid)", "\(log(directory))")

        let ready = try #require(notify.waitFor("READY=1", timeout: .seconds(10)), "\(log(directory))")
        #expect(ready.senderPID == activator.pid)  // exec in place: the tool's pid is the service's
        #expect(ready.value(of: "STATUS") == "probe serving [ctl,web] with 2 sockets")

        let report = try Probe.read(reportPath)
        #expect(report.pid == activator.pid)
        #expect(
            report.fds == [
                .init(fd: 3, name: "ctl", unixStream: true, inetStream: false, closeOnExec: true),
                .init(fd: 4, name: "web", unixStream: false, inetStream: true, closeOnExec: true),
            ])
        #expect(!report.listenEnvironmentLeft)
        #expect(report.notifyEnabled)
        #expect(report.watchdogMicroseconds == 400_000)
        #expect(report.pingIntervalMicroseconds == 200_000)
        #expect(report.probeValue == "a value with spaces, = and 'quotes'")
        // Only -E variables and the tool's few defaults reach the command.
        let allowed: Set = [
            "PATH", "HOME", "TERM", "USER", "NOTIFY_SOCKET", "WATCHDOG_USEC", "PROBE_REPORT", "TOLLGATE_PROBE_VALUE",
        ]
        #expect(Set(report.environmentKeys).isSubset(of: allowed), "\(report.environmentKeys)")

        let second = try activator.connect(to: 1)
        #expect(second.readLine(timeout: .seconds(5)) == "hello web \(activator.pid)")

        let enough = TestNetwork.waitUntil(timeout: .seconds(15)) {
            notify.count(of: "WATCHDOG=1", after: ready.time) >= 3
        }
        #expect(enough, "pings: \(notify.count(of: "WATCHDOG=1"))")
        let pings = notify.messages.filter { $0.contains("WATCHDOG=1") }
        #expect(pings.allSatisfy { $0.senderPID == activator.pid && $0.time > ready.time })
        // Loose sanity: pings are paced (200 ms apart), not a busy loop. The window is bracketed by
        // two instants of this process taken before the probe started and after the pings were
        // counted, so it covers all the sending; receive times (`ready.time`) would not do: if this
        // process stalls, pings queue up in the socket and are all stamped at once when it resumes.
        let elapsed = ContinuousClock.now - beforeStart
        #expect(Double(pings.count) <= elapsed / .milliseconds(200) * 2 + 3, "\(pings.count) pings in \(elapsed)")

        let sigterm = ContinuousClock.now
        activator.process.signal(SIGTERM)
        let status = try #require(activator.process.wait(timeout: .seconds(10)))
        #expect(ChildProcess.exitCode(status) == 0)
        let stopping = try #require(notify.waitFor("STOPPING=1", after: sigterm, timeout: .seconds(5)))
        #expect(stopping.senderPID == activator.pid)
        #expect(notify.count(of: "STOPPING=1") == 1)
        #expect(notify.count(of: "READY=1") == 1)
        #expect(notify.messages.first?.contains("READY=1") == true)
    }

    @Test func aSingleNameIsRepeatedForEverySocket() throws {
        // Confirms what systemd-socket-activate 252 does with `--fdname=NAME` and two `-l`:
        // LISTEN_FDNAMES=NAME:NAME. (The harness always passes one name per socket.)
        let probe = try Probe.executable()
        let directory = TestNetwork.temporaryDirectory(prefix: "act")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reportPath = directory + "/report.json"
        let port = TestNetwork.freePort()
        let process = try ChildProcess(
            SocketActivator.executable,
            ["-l", directory + "/a.sock", "-l", "127.0.0.1:\(port)", "--fdname=both", "-E", "PROBE_REPORT=\(reportPath)", probe],
            output: directory + "/out.log")
        defer { process.stop(grace: .seconds(5)) }
        let connection = try ConnectedSocket.unix(path: directory + "/a.sock", timeout: .seconds(10))
        #expect(connection.readLine(timeout: .seconds(15))?.hasPrefix("hello both") == true, "\(log(directory))")
        let report = try Probe.read(reportPath)
        #expect(report.fds.map(\.name) == ["both", "both"])
        #expect(report.fds.map(\.fd) == [3, 4])
    }

    private func log(_ directory: String) -> String {
        (try? String(contentsOfFile: directory + "/out.log", encoding: .utf8)) ?? "(no output)"
    }
}
