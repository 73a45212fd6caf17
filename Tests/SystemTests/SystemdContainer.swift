import Foundation
import Logging
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

/// A real systemd booted with `systemd-nspawn` on a prepared Debian root (scripts/system-test
/// builds it and installs Tollgate into it with scripts/install), with a throwaway overlay so every
/// boot starts clean. Commands run inside with `nsenter`; files and Unix sockets inside are reached
/// from the host through `/proc/<init>/root`. The container shares the host's network, so Redis and
/// the simulators run on host loopback ports owned by the test.
final class SystemdContainer: @unchecked Sendable {
    let rootfs: String
    let machine: String
    let nspawn: ChildProcess
    let initPID: Int32
    let logPath: String

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// The prepared root, from `TOLLGATE_SYSTEM_ROOTFS` (nil: system tests are skipped).
    static var preparedRoot: String? {
        guard let root = ProcessInfo.processInfo.environment["TOLLGATE_SYSTEM_ROOTFS"], !root.isEmpty else { return nil }
        return root
    }

    private init(rootfs: String, machine: String, nspawn: ChildProcess, initPID: Int32, logPath: String) {
        self.rootfs = rootfs
        self.machine = machine
        self.nspawn = nspawn
        self.initPID = initPID
        self.logPath = logPath
    }

    /// Boots the container and waits until systemd reports the system running. A container whose
    /// init is gone before it ran (this machine's nspawn now and then loses one at boot) is booted
    /// again, at most three times; the last failure is thrown with its console.
    static func boot(rootfs: String) async throws -> SystemdContainer {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await bootOnce(rootfs: rootfs)
            } catch let failure as BootLost where attempt < 3 {
                print("system test: the container's init exited during boot, booting again: \(failure.description)")
            }
        }
    }

    /// The container's init exited during boot.
    struct BootLost: Error, CustomStringConvertible {
        var description: String
    }

    private static func bootOnce(rootfs: String) async throws -> SystemdContainer {
        let machine = "tollgate-\(getpid())-\(Int.random(in: 1000...9999))"
        let log = TestNetwork.temporaryDirectory(prefix: "nspawn") + "/console.log"
        let nspawn = try ChildProcess(
            "/usr/bin/systemd-nspawn",
            [
                "-D", rootfs, "--volatile=overlay", "--register=no", "--keep-unit", "--console=pipe", "--machine=\(machine)",
                "-b",
            ], output: log)
        // The container's PID 1 is nspawn's child.
        let found: Int32? = await offPool {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if let children = try? String(contentsOfFile: "/proc/\(nspawn.pid)/task/\(nspawn.pid)/children", encoding: .utf8),
                    let first = children.split(separator: " ").first, let pid = Int32(first),
                    (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.hasPrefix("systemd") == true
                {
                    return pid
                }
                usleep(50_000)
            }
            return nil
        }
        guard let initPID = found else {
            nspawn.kill9()
            throw Failure("systemd did not start in the container:\n\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        let container = SystemdContainer(rootfs: rootfs, machine: machine, nspawn: nspawn, initPID: initPID, logPath: log)
        var state = ""
        for _ in 0..<300 {
            guard nspawn.isRunning, access("/proc/\(initPID)", F_OK) == 0 else {
                await container.shutdown()
                throw BootLost(description: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "no console output")
            }
            state = (try? await container.run(["systemctl", "is-system-running"]).output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? ""
            if state == "running" || state == "degraded" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard state == "running" || state == "degraded" else {
            await container.shutdown()
            throw Failure("the container's systemd is '\(state)', not running")
        }
        return container
    }

    /// Runs a command inside the container; returns its exit status and combined output.
    @discardableResult
    func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (status: Int32?, output: String) {
        let out = TestNetwork.temporaryDirectory(prefix: "nsenter") + "/out"
        let process = try ChildProcess(
            "/usr/bin/nsenter", ["-t", "\(initPID)", "-m", "-u", "-i", "-n", "-p", "--"] + arguments, output: out)
        let status = await offPool { process.wait(timeout: timeout) }
        if status == nil { process.kill9() }
        return (status.flatMap(ChildProcess.exitCode), (try? String(contentsOfFile: out, encoding: .utf8)) ?? "")
    }

    /// `systemctl ARGS`, failing the test's expectations is left to the caller.
    @discardableResult
    func systemctl(_ arguments: String...) async throws -> (status: Int32?, output: String) {
        try await run(["systemctl"] + arguments)
    }

    /// A property of a unit (`systemctl show -p NAME --value UNIT`).
    func property(_ unit: String, _ name: String) async throws -> String {
        try await run(["systemctl", "show", "-p", name, "--value", unit]).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The unit's journal since boot, message text only.
    func journal(_ unit: String) async throws -> String {
        try await run(["journalctl", "--no-pager", "-o", "cat", "-u", unit]).output
    }

    /// The host path of `path` inside the container (works for reading, writing and connecting).
    func hostPath(_ path: String) -> String { "/proc/\(initPID)/root" + path }

    func write(_ contents: String, to path: String, mode: mode_t = 0o644) throws {
        let host = hostPath(path)
        try FileManager.default.createDirectory(
            atPath: (host as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: host, atomically: false, encoding: .utf8)
        chmod(host, mode)
    }

    /// Waits until `condition` holds, polling every 200 ms.
    func waitFor(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        if try await condition() { return }
        throw Failure("timed out waiting for \(what)")
    }

    /// Powers the container off (and kills nspawn by pid if that does not end it).
    func shutdown() async {
        _ = try? await run(["systemctl", "poweroff"], timeout: .seconds(10))
        let nspawn = self.nspawn
        let status = await offPool { nspawn.wait(timeout: .seconds(30)) }
        if status == nil { await offPool { nspawn.kill9() } }
    }
}
