import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TollgateCore
import TollgateSimulators

/// `tollgate sim nocodb --port N`: the NocoDB API v2 simulator as its own process.
struct SimNocoDBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nocodb",
        abstract: "Run the NocoDB REST API v2 simulator (records endpoints, where/exactDate, the cloud rate limit).",
        discussion: """
            Point the services at it with NOCODB_URL=http://HOST:PORT, NOCODB_TOKEN set to --token and
            NOCODB_TABLE_ID set to --table. Control it over HTTP under /_sim/ (never rate limited):
            POST /_sim/tables/TABLE/rows [{"TelegramId":"42","Paid":false}], POST /_sim/tables/TABLE/rows/ID/paid,
            POST /_sim/tables/TABLE/paid {"ids":[1,2]}, POST /_sim/faults {"kind":"status","status":500,"count":3}
            ("delay" with "ms", "throttle"), GET /_sim/stats, POST /_sim/stats/reset. Stops on SIGINT or SIGTERM.
            """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8082

    @Option(help: "An accepted API token (repeatable; a fake one).")
    var token: [String] = ["123456:TEST-nocodb-token"]

    @Option(help: "A table id to serve (repeatable).")
    var table: [String] = ["users"]

    @Option(help: "Rows to create in each table at start (TelegramId 1000000+n, Paid false), dated over the last day.")
    var seed = 0

    @Option(help: "Requests per window per token (NocoDB Cloud: 5).")
    var rateLimit = 5

    @Option(help: "The fixed window of the rate limit, e.g. 1s.")
    var rateWindow = "1s"

    @Option(help: "How long a token stays blocked after going over the limit (NocoDB Cloud: 30s).")
    var block = "30s"

    @Flag(help: "Turn the rate limit off (self-hosted NocoDB without a limiter).")
    var noRateLimit = false

    @Option(help: "The largest page (cloud 100, self-hosted 1000).")
    var maxLimit = 100

    @Option(help: "Time every API reply takes at least, e.g. 50ms.")
    var latency = "0ms"

    @Flag(help: "Answer 404s in the older {\"msg\": ...} shape.")
    var legacyErrors = false

    @Option(help: "Log level (trace, debug, info, warning, error).")
    var logLevel = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        for name in ["--rate-window": rateWindow, "--block": block, "--latency": latency] where DurationParser.parse(name.value) == nil {
            throw ValidationError("\(name.key) expects a duration like 500ms, 1s or 30s")
        }
        guard rateLimit >= 1, maxLimit >= 1, seed >= 0 else {
            throw ValidationError("--rate-limit and --max-limit must be positive, --seed not negative")
        }
    }

    func run() async throws {
        var logger = Logger(label: "nocodb-sim")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var configuration = NocoDBSimulator.Configuration()
        configuration.tokens = token
        configuration.tables = table.map { NocoDBSimulator.TableSpec(id: $0) }
        configuration.rateLimitEnabled = !noRateLimit
        configuration.rateLimit = rateLimit
        configuration.rateWindow = DurationParser.parse(rateWindow) ?? .seconds(1)
        configuration.blockDuration = DurationParser.parse(block) ?? .seconds(30)
        configuration.maxLimit = maxLimit
        configuration.latency = DurationParser.parse(latency) ?? .zero
        configuration.legacyErrorShape = legacyErrors
        let simulator = NocoDBSimulator(configuration: configuration, host: host, port: port, logger: logger)
        // Seeded rows look like a table filled over the last day, one row after another.
        let origin = WallClock.epochMilliseconds() - 86_400_000
        for id in table where seed > 0 {
            for n in 0..<seed {
                _ = try simulator.insert(
                    table: id, rows: [["TelegramId": .string("\(1_000_000 + n)"), "Paid": .bool(false)]],
                    atMs: origin + Int64(n) * 86_400_000 / Int64(seed))
            }
        }
        let group = ServiceGroup(services: [simulator], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let base = try await simulator.baseURL()
            let limit = noRateLimit ? "off" : "\(rateLimit) per \(rateWindow) per token, block \(block)"
            let text = """
                nocodb simulator listening on \(base)
                NOCODB_URL=\(base)
                NOCODB_TABLE_ID=\(table[0])
                rate limit: \(limit); tables: \(table.joined(separator: ", ")); rows seeded per table: \(seed)

                """
            FileHandle.standardOutput.write(Data(text.utf8))
            try await tasks.waitForAll()
        }
    }
}
