import Foundation
import Logging
import TollgateCore
import TollgateHTTPServer
import TollgateIPC
import TollgateRedis
import TollgateSystemd

/// The settings every service reads (see README, "Configuration").
public struct RuntimeSettings: Sendable {
    public var kind: ServiceKind
    /// `TOLLGATE_INSTANCE`: this process's name in stats, logs and the leader lock.
    public var instance: String
    public var redisURL: RedisURL
    /// `REDIS_PREFIX` (default `tollgate`).
    public var keys: KeySpace
    /// Where this service's IPC server listens: the socket-activated fd, or its own path.
    public var ipcTarget: IPCListenTarget
    /// `GATEWAY_SOCKET` / `POLLER_SOCKET` paths, for connecting to the other service.
    public var gatewaySocketPath: String
    public var pollerSocketPath: String
    public var ipcMaxFrameBytes: Int
    /// Ops HTTP (/health /ready /metrics /stats); nil when `off`.
    public var httpTarget: HTTPListenTarget?
    /// Connection count and deadlines of every HTTP listener (ops, webhook): `HTTP_MAX_CONNECTIONS`,
    /// `HTTP_HEADER_TIMEOUT`, `HTTP_BODY_TIMEOUT`, `HTTP_IDLE_TIMEOUT`, `HTTP_WRITE_TIMEOUT`.
    public var httpLimits = HTTPServerLimits()
    /// `REDIS_REQUIRE_DURABLE=yes`: refuse to start (exit 78) on a Redis that may lose what it
    /// acknowledged (``RedisDurability``); otherwise such a Redis is reported and used.
    public var requireDurableRedis = false
    /// Budget for the graceful drain after SIGTERM (`SHUTDOWN_GRACE`); units set TimeoutStopSec above it.
    public var shutdownGrace: Duration
    public var logLevel: Logger.Level
    public var redisPoolSize: Int
    /// `TOLLGATE_TEST_HOOKS=1` enables test-only switches (SIGUSR1 freezes the main loops).
    public var testHooks: Bool
    /// Every socket inherited from systemd, by name (the gateway's `webhook` among them).
    public var listenFDs: [ListenFD]

    /// Reads the settings, recording problems in `reader`.
    public static func read(_ reader: inout ConfigReader, kind: ServiceKind, listenFDs: [ListenFD]) -> RuntimeSettings {
        let hostname = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        let defaultInstance = kind == .gateway ? "gateway@\(hostname)" : "poller@\(hostname):\(getpid())"
        let instance = reader.string("TOLLGATE_INSTANCE", default: defaultInstance)
        if instance.isEmpty || instance.utf8.count > 128 || instance.contains(where: { $0.isWhitespace }) {
            reader.problem("TOLLGATE_INSTANCE", "must be 1-128 characters without spaces")
        }

        let rawRedis = reader.string("REDIS_URL", default: "redis://127.0.0.1:6379/0")
        var redisURL = (try? RedisURL("redis://127.0.0.1:6379/0"))!
        do {
            redisURL = try RedisURL(rawRedis)
        } catch {
            reader.problem("REDIS_URL", "\(error.message)")
        }
        let prefix = reader.string("REDIS_PREFIX", default: "tollgate")
        if prefix.isEmpty || prefix.contains(where: { $0.isWhitespace }) {
            reader.problem("REDIS_PREFIX", "must be a non-empty word without spaces")
        }

        let gatewaySocket = reader.string("GATEWAY_SOCKET", default: ServiceKind.gateway.defaultSocketPath)
        let pollerSocket = reader.string("POLLER_SOCKET", default: ServiceKind.poller.defaultSocketPath)
        for (name, path) in [("GATEWAY_SOCKET", gatewaySocket), ("POLLER_SOCKET", pollerSocket)] {
            if !path.hasPrefix("/") { reader.problem(name, "must be an absolute path, got '\(path)'") }
            if path.utf8.count > 107 { reader.problem(name, "is longer than the 107 bytes a Unix socket path may have") }
        }
        let ownPath = kind == .gateway ? gatewaySocket : pollerSocket
        var ipcTarget = IPCListenTarget.unix(path: ownPath)
        if let fd = SocketActivation.first(named: kind.ipcFDName, in: listenFDs) {
            if SocketActivation.isUnixStreamListener(fd: fd.fd) {
                ipcTarget = .descriptor(fd.fd, name: fd.name)
            } else {
                reader.problem("LISTEN_FDS", "the socket named '\(fd.name)' (fd \(fd.fd)) is not a listening Unix stream socket; check ListenStream= in \(kind.name).socket")
            }
        }

        let maxFrame = reader.int("IPC_MAX_FRAME_BYTES", default: 1 << 20, range: 4096...(64 << 20))

        var httpTarget: HTTPListenTarget? = nil
        if let fd = SocketActivation.first(named: kind.httpFDName, in: listenFDs) {
            if SocketActivation.isInetStreamListener(fd: fd.fd) || SocketActivation.isUnixStreamListener(fd: fd.fd) {
                httpTarget = .descriptor(fd.fd)
            } else {
                reader.problem("LISTEN_FDS", "the socket named '\(fd.name)' (fd \(fd.fd)) is not a listening stream socket")
            }
        } else {
            let raw = reader.string(kind.httpVariable, default: kind.defaultHTTP)
            switch Self.parseListen(raw) {
            case .success(let target): httpTarget = target
            case .failure(let error): reader.problem(kind.httpVariable, error.description)
            }
        }

        let grace = reader.duration("SHUTDOWN_GRACE", default: .seconds(20), min: .seconds(1), max: .seconds(600))
        let levelName = reader.choice(
            "LOG_LEVEL", default: "info", allowed: ["trace", "debug", "info", "notice", "warning", "error", "critical"])
        let poolSize = reader.int("REDIS_POOL_SIZE", default: 4, range: 1...64)
        let hooks = reader.bool("TOLLGATE_TEST_HOOKS", default: false)

        let httpLimits = HTTPServerLimits(
            maxConnections: reader.int("HTTP_MAX_CONNECTIONS", default: 512, range: 1...100_000),
            headerTimeout: reader.duration("HTTP_HEADER_TIMEOUT", default: .seconds(10), min: .milliseconds(100), max: .seconds(600)),
            bodyTimeout: reader.duration("HTTP_BODY_TIMEOUT", default: .seconds(30), min: .milliseconds(100), max: .seconds(3600)),
            idleTimeout: reader.duration("HTTP_IDLE_TIMEOUT", default: .seconds(60), min: .milliseconds(100), max: .seconds(3600)),
            writeTimeout: reader.duration("HTTP_WRITE_TIMEOUT", default: .seconds(30), min: .milliseconds(100), max: .seconds(3600)))

        var settings = RuntimeSettings(
            kind: kind, instance: instance, redisURL: redisURL, keys: KeySpace(prefix: prefix), ipcTarget: ipcTarget,
            gatewaySocketPath: gatewaySocket, pollerSocketPath: pollerSocket, ipcMaxFrameBytes: maxFrame,
            httpTarget: httpTarget, shutdownGrace: grace, logLevel: Logger.Level(rawValue: levelName) ?? .info,
            redisPoolSize: poolSize, testHooks: hooks, listenFDs: listenFDs)
        settings.httpLimits = httpLimits
        settings.requireDurableRedis = reader.bool("REDIS_REQUIRE_DURABLE", default: false)
        return settings
    }

    /// `off`, `host:port` (IPv4 loopback or any address), `[v6]:port`, or `unix:/path`.
    static func parseListen(_ raw: String) -> Result<HTTPListenTarget?, ListenParseError> {
        if raw == "off" || raw == "none" { return .success(nil) }
        if raw.hasPrefix("unix:") {
            let path = String(raw.dropFirst(5))
            guard path.hasPrefix("/") else { return .failure(ListenParseError("unix: needs an absolute path")) }
            return .success(.unix(path: path))
        }
        guard let colon = raw.lastIndex(of: ":"), let port = Int(raw[raw.index(after: colon)...]), (0...65535).contains(port)
        else {
            return .failure(ListenParseError("expected host:port, unix:/path or off, got '\(raw)'"))
        }
        var host = String(raw[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return .failure(ListenParseError("missing host in '\(raw)'")) }
        return .success(.tcp(host: host, port: port))
    }

    struct ListenParseError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}
