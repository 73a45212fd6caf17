// tollgate-systemd-probe: a test-only service that exercises TollgateSystemd for real.
//
// Environment:
//   PROBE_REPORT  file that receives a JSON report (listen fds, watchdog) — written atomically
//   PROBE_MODE    "report": write the report and exit; otherwise serve (default)
//   TOLLGATE_PROBE_VALUE  echoed in the report
// Serving: READY=1 + STATUS to NOTIFY_SOCKET, "hello <name> <pid>\n" to every connection on any
// listening fd, WATCHDOG=1 every recommended interval, STOPPING=1 on SIGTERM/SIGINT, exit 0.
import Foundation
import TollgateSystemd

#if canImport(Glibc)
    import Glibc
#endif

struct Report: Codable {
    struct FD: Codable {
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
    /// The names of every environment variable the probe received (after listenFDs unset LISTEN_*).
    var environmentKeys: [String]
    /// The value of TOLLGATE_PROBE_VALUE, to check that values survive the trip intact.
    var probeValue: String?
}

func microseconds(_ duration: Duration?) -> Int64? {
    duration.map { $0.components.seconds * 1_000_000 + $0.components.attoseconds / 1_000_000_000_000 }
}

// Block the stop signals before any thread exists, so only sigtimedwait below sees them.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
sigaddset(&stopSignals, SIGTERM)
sigaddset(&stopSignals, SIGINT)
pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

let fds = SocketActivation.listenFDs()
let notifier = SystemdNotifier()
let report = Report(
    pid: getpid(),
    fds: fds.map {
        Report.FD(
            fd: $0.fd, name: $0.name,
            unixStream: SocketActivation.isUnixStreamListener(fd: $0.fd),
            inetStream: SocketActivation.isInetStreamListener(fd: $0.fd),
            closeOnExec: fcntl($0.fd, F_GETFD) & FD_CLOEXEC != 0)
    },
    listenEnvironmentLeft: getenv("LISTEN_FDS") != nil || getenv("LISTEN_PID") != nil,
    notifyEnabled: notifier.isEnabled,
    watchdogMicroseconds: microseconds(notifier.watchdogInterval),
    pingIntervalMicroseconds: microseconds(notifier.recommendedPingInterval),
    environmentKeys: ProcessInfo.processInfo.environment.keys.sorted(),
    probeValue: ProcessInfo.processInfo.environment["TOLLGATE_PROBE_VALUE"])

let environment = ProcessInfo.processInfo.environment
if let path = environment["PROBE_REPORT"] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do {
        try encoder.encode(report).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        FileHandle.standardError.write(Data("probe: cannot write report: \(error)\n".utf8))
        exit(2)
    }
}
if environment["PROBE_MODE"] == "report" { exit(0) }

let names = fds.map(\.name).joined(separator: ",")
notifier.notify(.ready, .status("probe serving [\(names)]\nwith \(fds.count) sockets"))

if let every = notifier.recommendedPingInterval {
    Thread.detachNewThread {
        while true {
            Thread.sleep(forTimeInterval: Double(microseconds(every) ?? 1_000_000) / 1_000_000)
            notifier.notify(.watchdog)
        }
    }
}

var polled = fds.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
var noWait = timespec(tv_sec: 0, tv_nsec: 0)
while true {
    if sigtimedwait(&stopSignals, nil, &noWait) > 0 {
        notifier.notify(.stopping, .status("probe stopping"))
        exit(0)
    }
    guard poll(&polled, nfds_t(polled.count), 50) > 0 else { continue }
    for (index, entry) in polled.enumerated() where entry.revents & Int16(POLLIN) != 0 {
        let client = accept(entry.fd, nil, nil)
        guard client >= 0 else { continue }
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        let reply = Array("hello \(fds[index].name) \(getpid())\n".utf8)
        _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        close(client)
    }
}
