import Foundation
import Logging
import ServiceLifecycle
import TollgateCore
import TollgateHTTPServer
import TollgateIPC
import TollgateRedis
import TollgateSystemd
import UnixSignals

/// Speaks to systemd for the service: `READY=1` once the IPC socket listens, the ops HTTP server is
/// bound and Redis answers; `STATUS=` every few seconds; `WATCHDOG=1` only while every registered
/// loop makes progress (``Liveness``). Also keeps the Redis health check fresh.
///
/// It runs beside the ServiceGroup, not in it, so that it keeps pinging the watchdog while the
/// group drains (a drain longer than the watchdog interval must not get the process killed).
struct Supervisor {
    let host: ServiceHost
    let notifier: SystemdNotifier
    let ipc: IPCServer
    let http: HTTPServer?
    let logger: Logger

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            if host.settings.testHooks {
                group.addTask { await self.freezeOnSIGUSR1() }
            }
            group.addTask { await self.supervise() }
            await group.next()
            group.cancelAll()
        }
    }

    private func supervise() async {
        let redis = host.makeRedisClient(name: "\(host.kind.rawValue)-health", commandTimeout: .seconds(2))
        await supervise(redis)
        await redis.close()
    }

    /// Returns only when cancelled (when the service group has ended).
    private func supervise(_ redis: RedisClient) async {
        // 1. Ready: sockets and Redis up.
        notifier.notify(.status("starting: binding sockets"))
        do {
            _ = try await ipc.listening()
            if let http {
                let address = try await http.listeningAddress()
                host.httpAddress.withLock { $0 = "\(address)" }
            }
        } catch {
            // The failing server ends the service group, which cancels us.
            logger.critical("cannot listen", metadata: ["error": "\(error)"])
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return
        }
        var backoff = Backoff(base: .milliseconds(100), cap: .seconds(2))
        var reportedWaiting = false
        while !Task.isCancelled {
            if await checkRedis(redis) { break }
            if !reportedWaiting {
                logger.warning("waiting for Redis before reporting ready", metadata: ["redis": "\(host.settings.redisURL)"])
                notifier.notify(.status("starting: waiting for Redis at \(host.settings.redisURL)"))
                reportedWaiting = true
            }
            try? await Task.sleep(for: backoff.next())
        }
        guard !Task.isCancelled else { return }
        await checkDurability(redis, atStart: true)
        if host.lifecycle == .starting { host.setLifecycle(.ready) }
        notifier.notify(.ready, .status(host.statusText()))
        logger.info(
            "ready",
            metadata: [
                "ipc": "\(host.settings.ipcTarget)", "http": "\(host.httpAddress.withLock { $0 } ?? "off")",
                "instance": "\(host.settings.instance)",
            ])

        // 2. Alive: watchdog, status, health.
        let pingEvery = notifier.recommendedPingInterval ?? .seconds(1)
        // WATCHDOG_USEC comes from the environment: a tiny one must not make this loop spin.
        let tick = max(min(pingEvery, .seconds(1)), .milliseconds(50))
        var lastStatus = ContinuousClock.now
        var lastRedisCheck = ContinuousClock.now
        var lastDurabilityCheck = ContinuousClock.now
        var withheldReported = false
        while !Task.isCancelled {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            if now - lastRedisCheck >= .seconds(2) {
                _ = await checkRedis(redis)
                lastRedisCheck = now
            }
            if now - lastDurabilityCheck >= .seconds(60) {
                await checkDurability(redis, atStart: false)
                lastDurabilityCheck = now
            }
            if notifier.watchdogInterval != nil {
                let stale = host.lifecycle == .draining ? [] : host.liveness.staleLoops()
                if host.liveness.isFrozen || !stale.isEmpty {
                    if !withheldReported {
                        logger.error(
                            "withholding WATCHDOG=1: main loops are not making progress",
                            metadata: ["silent": "\(host.liveness.isFrozen ? "all (frozen by test switch)" : stale.joined(separator: ","))"])
                        withheldReported = true
                    }
                } else {
                    notifier.notify(.watchdog)
                    withheldReported = false
                }
            }
            if now - lastStatus >= .seconds(5) {
                notifier.notify(.status(host.statusText()))
                lastStatus = now
            }
        }
    }

    /// Reads the Redis settings; logs one line when they are (or stop being) unsafe. At start,
    /// with `REDIS_REQUIRE_DURABLE=yes`, an unsafe Redis ends the process with status 78.
    private func checkDurability(_ redis: RedisClient, atStart: Bool) async {
        let report = await RedisDurability.inspect(redis)
        let previous = host.redisDurability.withLock { state -> RedisDurability? in
            defer { state = report }
            return state
        }
        if atStart, host.settings.requireDurableRedis, !report.problems.isEmpty {
            logger.critical(
                "refusing to start: REDIS_REQUIRE_DURABLE=yes and the Redis may lose acknowledged writes",
                metadata: ["redis": "\(host.settings.redisURL)", "problems": "\(report.problems.joined(separator: "; "))"])
            FileHandle.standardError.write(Data("\(host.kind.name): refusing to start: Redis \(report.summary)\n".utf8))
            exit(ConfigError.exitCode)
        }
        guard previous?.summary != report.summary else { return }
        if report.isDurable {
            if previous != nil { logger.notice("redis settings are durable now", metadata: ["redis": "\(report.summary)"]) }
        } else if report.uncheckable != nil {
            logger.warning("could not check the Redis durability settings", metadata: ["redis": "\(report.summary)"])
        } else {
            logger.error(
                "redis may lose acknowledged writes: updates, jobs and confirmations with them (README, \"Redis\")",
                metadata: ["redis": "\(report.summary)"])
        }
    }

    private func checkRedis(_ redis: RedisClient) async -> Bool {
        do {
            let rtt = try await redis.ping()
            host.redisLatencyMicros.store(Int(rtt.seconds * 1_000_000), ordering: .relaxed)
            let was = host.redisHealthy.exchange(true, ordering: .relaxed)
            if !was && host.lifecycle == .ready { logger.info("redis is reachable again") }
            return true
        } catch {
            let was = host.redisHealthy.exchange(false, ordering: .relaxed)
            if was { logger.error("redis is unreachable", metadata: ["error": "\(error)"]) }
            return false
        }
    }

    /// Test-only switch (`TOLLGATE_TEST_HOOKS=1`): SIGUSR1 freezes every main loop.
    private func freezeOnSIGUSR1() async {
        let signals = await UnixSignalsSequence(trapping: .sigusr1)
        for await _ in signals {
            logger.warning("test hook: SIGUSR1 received, freezing the main loops")
            host.liveness.freeze()
        }
    }
}

/// The first service to hear about graceful shutdown (it is last in the group): tells systemd
/// `STOPPING=1` and marks the host draining, then returns so the others drain in turn.
struct ShutdownAnnouncer: Service {
    let host: ServiceHost
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        try await gracefulShutdown()
        host.setLifecycle(.draining)
        notifier.notify(.stopping, .status("draining: finishing requests in flight"))
        logger.info("SIGTERM: draining", metadata: ["budget": "\(DurationParser.format(host.settings.shutdownGrace))"])
    }
}
