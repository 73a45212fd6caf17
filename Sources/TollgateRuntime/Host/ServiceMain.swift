import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import TollgateCore
import TollgateSystemd

/// The whole life of a service process, for the thin mains:
/// read and validate configuration (every problem on its own line, exit 78), install logging and
/// metrics, build the components, run until SIGTERM, exit 0 — or 1 after a failure.
public enum ServiceMain {
    public static func run<Config: Sendable>(
        kind: ServiceKind,
        readConfig: @escaping @Sendable (inout ConfigReader) -> Config,
        makeServices: @escaping @Sendable (ServiceHost, Config) async throws -> [any Service]
    ) async -> Never {
        // Taken first, before any thread starts: it unsets LISTEN_* in the environment.
        let listenFDs = SocketActivation.listenFDs()
        let environment = ProcessInfo.processInfo.environment
        var reader = ConfigReader(ConfigSource.load(environment: environment))
        let settings = RuntimeSettings.read(&reader, kind: kind, listenFDs: listenFDs)
        let config = readConfig(&reader)
        do {
            try reader.finish()
        } catch {
            for problem in error.problems {
                FileHandle.standardError.write(Data("\(kind.name): configuration: \(problem)\n".utf8))
            }
            FileHandle.standardError.write(Data("\(kind.name): refusing to start (\(error.problems.count) configuration problem(s))\n".utf8))
            exit(ConfigError.exitCode)
        }

        TollgateLogHandler.bootstrap(level: settings.logLevel, environment: environment)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: kind.name)
        logger[metadataKey: "instance"] = "\(settings.instance)"

        let host = ServiceHost(settings: settings, logger: logger, prometheus: registry)
        do {
            let services = try await makeServices(host, config)
            try await host.run(services)
            exit(0)
        } catch {
            logger.critical("stopped after a failure", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}
