import TollgateGateway
import TollgateRuntime

/// bot-gateway: the only process that talks to Telegram. Settings: README "Configuration" and
/// `GatewayConfiguration` / `NocoDBConfig` (BOT_TOKEN, TELEGRAM_API_URL, NOCODB_*, POLLER_SOCKET,
/// WEBHOOK_URL/WEBHOOK_SECRET/WEBHOOK_LISTEN, FLOW_FILE, TELEGRAM_*_RATE, INBOUND_LIMIT, ...).
await ServiceMain.run(kind: .gateway, readConfig: GatewaySettings.read) { host, settings in
    GatewayAssembly.services(host: host, settings: settings)
}
