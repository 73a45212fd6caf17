import Foundation
import Synchronization
import TollgateTestKit

/// The demo's stand-in for systemd: it owns the listening sockets (`gateway`, `poller`) and hands
/// them to each service process it starts, exactly as the units do (`LISTEN_FDS`, `LISTEN_FDNAMES`,
/// `LISTEN_PID`), gives every process its own `NOTIFY_SOCKET` and counts it started once it says
/// `READY=1`. Because the sockets outlive the processes, a request sent while a service restarts
/// waits in the socket's backlog, and every poller instance accepts from the one socket.
final class DemoSupervisor: Sendable {
    /// A listening Unix socket held by the supervisor.
    struct ListeningSocket: Sendable {
        let path: String
        let name: String
        let fd: Int32
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let directory: String
    private let units = Mutex<[String: DemoUnit]>([:])

    init(directory: String) {
        self.directory = directory
    }

    /// Binds `path` and listens, like a `.socket` unit.
    static func listen(path: String, name: String) throws -> ListeningSocket {
        ListeningSocket(path: path, name: name, fd: try ActivatedProcess.listenUnix(path: path))
    }

    /// Declares a unit (not started yet).
    @discardableResult
    func add(name: String, binary: String, environment: [String: String], socket: ListeningSocket) throws -> DemoUnit {
        let unit = try DemoUnit(
            name: name, binary: binary, environment: environment, socket: socket, logPath: directory + "/\(name).log")
        units.withLock { $0[name] = unit }
        return unit
    }

    func unit(_ name: String) -> DemoUnit? { units.withLock { $0[name] } }

    var all: [DemoUnit] { units.withLock { Array($0.values) }.sorted { $0.name < $1.name } }

    /// SIGTERM to every unit (pollers first, then the gateway, as `systemctl stop` would in any
    /// order), waits for each by pid, then closes the sockets.
    func stopAll(grace: Duration = .seconds(15)) async {
        let ordered = all.sorted { a, b in a.name.hasPrefix("poller") && !b.name.hasPrefix("poller") }
        await withTaskGroup(of: Void.self) { group in
            for unit in ordered where unit.name.hasPrefix("poller") {
                group.addTask { await unit.stop(grace: grace) }
            }
        }
        for unit in ordered where !unit.name.hasPrefix("poller") { await unit.stop(grace: grace) }
        for unit in ordered { unit.closeNotify() }
    }
}

/// One service process under the ``DemoSupervisor``: started with the listening socket as fd 3,
/// restarted, killed; every start is recorded with how long it took to say READY=1.
final class DemoUnit: Sendable {
    struct Start: Sendable {
        var pid: Int32
        var requestedAt: ContinuousClock.Instant
        var readyAt: ContinuousClock.Instant?
    }

    let name: String
    let binary: String
    let environment: [String: String]
    let socket: DemoSupervisor.ListeningSocket
    let logPath: String
    private let notify: NotifySocketListener
    private let state = Mutex<(process: ChildProcess?, starts: [Start])>((nil, []))

    init(name: String, binary: String, environment: [String: String], socket: DemoSupervisor.ListeningSocket, logPath: String) throws {
        self.name = name
        self.binary = binary
        self.environment = environment
        self.socket = socket
        self.logPath = logPath
        notify = try NotifySocketListener()
    }

    var pid: Int32? { state.withLock { $0.process?.pid } }
    var starts: [Start] { state.withLock { $0.starts } }

    /// Starts the process and waits for its READY=1 (by its pid). Returns how long that took.
    @discardableResult
    func start(timeout: Duration = .seconds(60)) async throws -> Duration {
        let env = environment.merging(notify.environment) { _, new in new }
        let requested = ContinuousClock.now
        let process = try ActivatedProcess.start(binary, sockets: [(socket.fd, socket.name)], environment: env, output: logPath)
        state.withLock {
            $0.process = process
            $0.starts.append(Start(pid: process.pid, requestedAt: requested))
        }
        let notify = self.notify
        let pid = process.pid
        let ready = await offPool { () -> NotifyMessage? in
            notify.waitFor(after: requested, timeout: timeout) { message in
                message.contains("READY=1") && (message.senderPID == nil || message.senderPID == pid) || !process.isRunning
            }
        }
        guard let ready, ready.contains("READY=1") else {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw DemoSupervisor.Failure(
                description: "\(name) did not become ready within \(timeout) (log \(logPath)):\n\(log.suffix(1500))")
        }
        state.withLock { s in
            if let i = s.starts.lastIndex(where: { $0.pid == pid }) { s.starts[i].readyAt = ready.time }
        }
        return ready.time - requested
    }

    /// kill -9 by pid, and wait until it is gone.
    func kill9() async {
        guard let process = state.withLock({ $0.process }) else { return }
        await offPool { process.kill9() }
    }

    /// SIGTERM by pid and wait (then SIGKILL after `grace`).
    func stop(grace: Duration = .seconds(15)) async {
        guard let process = state.withLock({ s -> ChildProcess? in
            defer { s.process = nil }
            return s.process
        }) else { return }
        _ = await offPool { process.stop(grace: grace) }
    }

    var isRunning: Bool { state.withLock { $0.process?.isRunning ?? false } }

    func closeNotify() { notify.close() }
}
