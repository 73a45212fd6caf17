import Logging
import ServiceLifecycle
import TollgateHTTPServer
import TollgateIPC
import TollgateSystemd

extension ServiceHost {
    /// Runs the service until SIGTERM/SIGINT (graceful drain within `SHUTDOWN_GRACE`) or until a
    /// component fails. `services` are the service's own components.
    ///
    /// Shutdown order (the reverse of the group's list): STOPPING=1 first, then the IPC server stops
    /// taking new work and answers what it has read, then the ops HTTP server, then the components
    /// drain what they accepted. The supervisor keeps the watchdog fed until the very end.
    public func run(_ services: [any Service], notifier: SystemdNotifier = SystemdNotifier()) async throws {
        let ipc = IPCServer(
            name: kind.name, target: settings.ipcTarget, router: makeRouter(), maxFrameBytes: settings.ipcMaxFrameBytes,
            counters: ipcCounters, logger: logger)
        let http = settings.httpTarget.map {
            HTTPServer(
                name: "\(kind.name)-ops", target: $0, maxBodyBytes: 64 << 10, limits: settings.httpLimits, logger: logger,
                handler: OpsHandler.make(self))
        }
        if let http { Self.registerStats(of: http, as: "ops", on: stats) }
        var list: [ServiceGroupConfiguration.ServiceConfiguration] = services.map {
            .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        if let http {
            list.append(.init(service: http, successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        list.append(.init(service: ipc, successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup))
        list.append(
            .init(
                service: ShutdownAnnouncer(host: self, notifier: notifier, logger: logger), successTerminationBehavior: .ignore,
                failureTerminationBehavior: .ignore))
        var configuration = ServiceGroupConfiguration(services: list, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = settings.shutdownGrace
        let group = ServiceGroup(configuration: configuration)
        let supervisor = Supervisor(host: self, notifier: notifier, ipc: ipc, http: http, logger: logger)

        defer { logger.info("stopped") }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask { await supervisor.run() }
            // The group ends on shutdown or failure; the supervisor only ever ends with it.
            defer { tasks.cancelAll() }
            try await tasks.next()
        }
        await redis.close()
    }

    /// An HTTP listener's connection figures in `stats` and `/metrics`: `http_<name>_...`.
    public static func registerStats(of server: HTTPServer, as name: String, on stats: StatsRegistry) {
        stats.register("http-\(name)") {
            let s = server.stats
            var counters = [
                "http_\(name)_connections_total": Double(s.connectionsAccepted),
                "http_\(name)_connections_refused_total": Double(s.connectionsRefused),
                "http_\(name)_requests_total": Double(s.requestsServed),
            ]
            for (stage, n) in s.timedOut { counters["http_\(name)_timeouts_\(stage)_total"] = Double(n) }
            return StatsContribution(counters: counters, gauges: ["http_\(name)_connections_open": Double(s.connectionsOpen)])
        }
    }
}
