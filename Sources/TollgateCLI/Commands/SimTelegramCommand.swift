import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TollgateCore
import TollgateSimulators

/// `tollgate sim telegram --port N`: the Telegram Bot API simulator as its own process.
struct SimTelegramCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telegram",
        abstract: "Run the Telegram Bot API simulator.",
        discussion: """
            Point bot-gateway at it with TELEGRAM_API_URL=http://HOST:PORT and BOT_TOKEN set to --token.
            Control it over HTTP under /_sim/: POST /_sim/messages {"user_id":1,"text":"/start"},
            POST /_sim/callbacks {"user_id":1,"data":"get_access"}, POST /_sim/users/1/block,
            GET /_sim/chats/1/messages, GET /_sim/stats. Stops on SIGINT or SIGTERM.
            """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8081

    @Option(help: "The only bot token accepted (a fake one).")
    var token = "123456:TEST-token"

    @Option(help: "Messages per second for the bot (Telegram: about 30).")
    var globalRate = 30.0

    @Option(help: "Messages the bot may send at once before the global rate applies.")
    var globalBurst = 5

    @Option(help: "Messages per second per chat.")
    var chatRate = 1.0

    @Option(help: "Messages per minute per group.")
    var groupRate = 20.0

    @Flag(help: "Turn the flood limits off.")
    var noFloodLimits = false

    @Option(help: "Log level (trace, debug, info, warning, error).")
    var logLevel = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        let parts = token.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0].allSatisfy(\.isNumber) else {
            throw ValidationError("--token must look like <digits>:<letters>")
        }
    }

    func run() async throws {
        var logger = Logger(label: "telegram-sim")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var limits = SimFloodLimits(
            globalPerSecond: globalRate, globalBurst: globalBurst, perChatPerSecond: chatRate, perGroupPerMinute: groupRate)
        limits.enabled = !noFloodLimits
        let simulator = TelegramSimulator(
            configuration: .init(token: token, host: host, port: port, floodLimits: limits), logger: logger)
        let group = ServiceGroup(
            services: [simulator], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let base = try await simulator.baseURL()
            let floods = limits.enabled
                ? "\(globalRate)/s global, \(chatRate)/s per chat, \(groupRate)/min per group" : "off"
            let text = "telegram simulator listening on \(base)\nTELEGRAM_API_URL=\(base)\nflood limits: \(floods)\n"
            FileHandle.standardOutput.write(Data(text.utf8))
            try await tasks.waitForAll()
        }
    }
}
