import TollgateCore
import TollgateRuntime

/// bot-gateway: the only process that talks to Telegram.
struct GatewayConfig: Sendable {
    var botToken: Secret?
    var telegramAPI: String
    var nocodbURL: String
    var nocodbToken: Secret?
    var nocodbTable: String

    static func read(_ r: inout ConfigReader) -> GatewayConfig {
        GatewayConfig(
            botToken: r.secret("BOT_TOKEN", credential: "bot-token"),
            telegramAPI: r.httpURL("TELEGRAM_API_URL", default: "https://api.telegram.org"),
            nocodbURL: r.httpURL("NOCODB_URL"),
            nocodbToken: r.secret("NOCODB_TOKEN", credential: "nocodb-token"),
            nocodbTable: r.string("NOCODB_TABLE_ID"))
    }
}

await ServiceMain.run(kind: .gateway, readConfig: GatewayConfig.read) { _, _ in [] }
