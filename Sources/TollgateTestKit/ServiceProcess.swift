import Foundation
import Logging
import TollgateIPC

#if canImport(Glibc)
    import Glibc
#endif

/// A real `bot-gateway` or `poller-scheduler` process started by a test or a benchmark, with a
/// complete environment pointing at test-owned Redis, sockets and simulators; stopped by pid.
public final class ServiceProcess: Sendable {
    public let binary: String
    public let process: ChildProcess
    public let socketPath: String
    public let logPath: String
    public let environment: [String: String]

    /// The environment a service needs, with obviously fake secrets and sockets under `directory`.
    /// `extra` overrides or adds variables.
    public static func environment(
        redisURL: String, directory: String, extra: [String: String] = [:]
    ) -> [String: String] {
        var env: [String: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "REDIS_URL": redisURL,
            "GATEWAY_SOCKET": directory + "/gateway.sock",
            "POLLER_SOCKET": directory + "/poller.sock",
            "GATEWAY_HTTP": "127.0.0.1:0",
            "POLLER_HTTP": "127.0.0.1:0",
            "BOT_TOKEN": "123456:TEST-token-not-real",
            "TELEGRAM_API_URL": "http://127.0.0.1:9",
            "NOCODB_URL": "http://127.0.0.1:9",
            "NOCODB_TOKEN": "TEST-nocodb-token",
            "NOCODB_TABLE_ID": "tbl_test",
            "LOG_LEVEL": "info",
            "SHUTDOWN_GRACE": "5s",
        ]
        env.merge(extra) { _, new in new }
        return env
    }

    /// Starts `name` (`bot-gateway` or `poller-scheduler`) from the build directory.
    /// `fileLimit` caps its open descriptors (`RLIMIT_NOFILE`, soft and hard; util-linux `prlimit`
    /// sets it and execs the service, so the pid is the service's): a service without the units'
    /// `LimitNOFILE`, the way systemd's default of 1024 would start it.
    public init(_ name: String, environment: [String: String], logPath: String, fileLimit: Int? = nil) throws {
        binary = try TestBinaries.path(of: name)
        self.environment = environment
        self.logPath = logPath
        socketPath = name == "bot-gateway" ? environment["GATEWAY_SOCKET"]! : environment["POLLER_SOCKET"]!
        if let fileLimit {
            process = try ChildProcess(
                "/usr/bin/prlimit", ["--nofile=\(fileLimit):\(fileLimit)", "--", binary],
                environment: environment, output: logPath)
        } else {
            process = try ChildProcess(binary, [], environment: environment, output: logPath)
        }
    }

    public var pid: Int32 { process.pid }

    /// What the process wrote to stdout and stderr so far.
    public func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The end of the log, for a failure message. When the process crashed, the Swift runtime's
    /// backtrace would fill any tail: the reason, the crashed thread's first frames and the log
    /// lines before the crash are shown instead.
    public func logTail(_ limit: Int = 2000) -> String { Self.tail(of: log(), limit: limit) }

    /// ``logTail(_:)`` of any service log text (a log file read by the caller).
    public static func tail(of log: String, limit: Int) -> String {
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false)
        guard let crash = lines.firstIndex(where: { $0.contains("*** Program crashed") || $0.contains("*** Signal ") })
        else { return String(log.suffix(limit)) }
        var reason: [Substring] = lines[..<crash].suffix(3).filter { $0.contains("error") || $0.contains("Fatal") }
        var before: [Substring] = Array(lines[..<crash].filter { !reason.contains($0) }.suffix(20))
        if before.joined(separator: "\n").count > limit { before = Array(before.suffix(8)) }
        var frames: [Substring] = []
        if let thread = lines.firstIndex(where: { $0.hasSuffix(" crashed:") }) {
            // The frames: from the first non-empty line after the header to the next empty one.
            let rest = lines[(thread + 1)...].drop { $0.isEmpty }
            frames.append(lines[thread])
            frames.append(contentsOf: rest.prefix { !$0.isEmpty }.prefix(14))
        }
        if reason.isEmpty { reason = [lines[crash]] }
        var out = before
        out.append("--- crashed:")
        out.append(contentsOf: reason)
        out.append(contentsOf: frames)
        return out.joined(separator: "\n")
    }

    /// Waits until the service answers `health` with `ready: true` on its socket.
    public func waitUntilReady(timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        var logger = Logger(label: "service-process")
        logger.logLevel = .critical
        var lastError = "no answer"
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw Failure("\(binary) exited before it was ready:\n\(logTail())")
            }
            if access(socketPath, F_OK) == 0 {
                let client = IPCClient(path: socketPath, logger: logger)
                do {
                    let health = try await client.call(Health(), timeout: .seconds(2))
                    await client.close()
                    if health.ready { return }
                    lastError = "health: \(health.status)"
                } catch {
                    await client.close()
                    lastError = "\(error)"
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure("\(binary) not ready after \(timeout) (\(lastError)):\n\(logTail())")
    }

    /// SIGTERM and wait (by pid); returns the raw wait status.
    @discardableResult
    public func stop(grace: Duration = .seconds(15)) async -> Int32? {
        let process = self.process
        return await offPool { process.stop(grace: grace) }
    }

    public func kill9() async {
        let process = self.process
        await offPool { process.kill9() }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }
}
