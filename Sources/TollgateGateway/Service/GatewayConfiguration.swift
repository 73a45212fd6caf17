import TollgateCore
import TollgateHTTPServer

/// The settings of bot-gateway beyond the runtime's (README, "Configuration").
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `BOT_TOKEN` (or credential `bot-token`) | required | the bot's token |
/// | `TELEGRAM_API_URL` | `https://api.telegram.org` | Bot API base (the simulator in tests) |
/// | `WEBHOOK_URL` | unset: long polling | public https URL Telegram POSTs updates to |
/// | `WEBHOOK_SECRET` (or credential `webhook-secret`) | required with `WEBHOOK_URL` | 1-256 of `A-Za-z0-9_-` |
/// | `WEBHOOK_LISTEN` | `127.0.0.1:8081` | where the webhook is served when systemd passes no `webhook` socket |
/// | `WEBHOOK_MAX_CONNECTIONS` | 40 | `max_connections` of setWebhook |
/// | `FLOW_FILE` | built-in flow | YAML or JSON flow file |
/// | `TELEGRAM_POLL_TIMEOUT` | 30s | long-poll timeout (0-50 s) |
/// | `TELEGRAM_GLOBAL_RATE` | 29.5 | messages/s for the bot, all gateways together (a little under Telegram's 30: arrival jitter never adds up to a 429) |
/// | `TELEGRAM_CHAT_RATE` | 1 | messages/s per chat |
/// | `TELEGRAM_GROUP_RATE` | 20 | messages/min per group |
/// | `BROADCAST_PAID_RATE` | 100 | messages/s for campaigns with `allow_paid_broadcast`, all gateways together (1-1000; each message above Telegram's free 30/s costs 0.1 Star) |
/// | `SEND_RETRY_DELAYS` | `1s,5s,15s` | waits between attempts after 5xx/timeouts (each at most 1 h, at most 10) |
/// | `TELEGRAM_MAX_RETRY_AFTER` | 1h | the longest wait a 429's `retry_after` may set (longer: cut, logged) |
/// | `INBOUND_LIMIT` | 10 | messages per user per `INBOUND_WINDOW` (0 = off) |
/// | `INBOUND_WINDOW` | 60s | |
/// | `USER_STATE_TTL` | 30d | kept after the last transition (0 = for ever) |
/// | `GATEWAY_WORKERS` | 32 | chats handled at once |
public struct GatewayConfiguration: Sendable {
    public enum Mode: Sendable, Equatable {
        case polling
        case webhook(url: String, path: String, secret: Secret, listen: HTTPListenTarget, maxConnections: Int)
    }

    public var botToken: Secret
    public var telegramAPI: String
    public var mode: Mode
    public var flow: FlowDefinition
    public var pollTimeoutSeconds: Int
    public var globalRate: Double
    public var chatRate: Double
    public var groupRatePerMinute: Double
    public var sendRetryDelays: [Duration]
    public var maxRetryAfter: Duration = .seconds(3600)
    /// `BROADCAST_PAID_RATE`.
    public var paidBroadcastRate: Double = 100
    /// `DEAD_LETTER_RETENTION`: how long a dead-lettered update is kept.
    public var deadLetterRetention: Duration = .seconds(30 * 86400)
    public var inboundLimit: Int
    public var inboundWindow: Duration
    public var stateTTL: Duration?
    public var workers: Int
    /// The paid club's door (`CLUB_CHAT_ID`…); nil: the flow file's static link.
    public var club: ClubConfiguration?

    /// The update kinds asked of Telegram: with a club also its membership changes and join requests.
    public var allowedUpdates: [String] {
        ["message", "callback_query"] + (club == nil ? [] : ["chat_member", "chat_join_request"])
    }

    /// Reads every setting, recording problems (a bad flow file names its line) in `r`.
    public static func read(_ r: inout ConfigReader) -> GatewayConfiguration {
        let token = r.secret("BOT_TOKEN", credential: "bot-token") ?? Secret("")
        if !token.isEmpty, !Self.looksLikeToken(token.exposedValue) {
            r.problem("BOT_TOKEN", "does not look like a bot token (<digits>:<letters, digits, _ ->)")
        }
        let api = r.httpURL("TELEGRAM_API_URL", default: "https://api.telegram.org")
        var mode = Mode.polling
        if let url = r.optionalString("WEBHOOK_URL") {
            if !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
                r.problem("WEBHOOK_URL", "expected an https:// URL")
            }
            let secret = r.secret("WEBHOOK_SECRET", credential: "webhook-secret") ?? Secret("")
            let valid = (1...256).contains(secret.exposedValue.utf8.count)
                && secret.exposedValue.utf8.allSatisfy { b in
                    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                        || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
                }
            if !secret.isEmpty, !valid { r.problem("WEBHOOK_SECRET", "must be 1-256 characters of A-Z a-z 0-9 _ -") }
            let listenRaw = r.string("WEBHOOK_LISTEN", default: "127.0.0.1:8081")
            var listen = HTTPListenTarget.tcp(host: "127.0.0.1", port: 8081)
            if let parsed = Self.parseListen(listenRaw) { listen = parsed } else {
                r.problem("WEBHOOK_LISTEN", "expected host:port or unix:/path, got '\(listenRaw)'")
            }
            let maxConnections = r.int("WEBHOOK_MAX_CONNECTIONS", default: 40, range: 1...100)
            mode = .webhook(url: url, path: Self.path(of: url), secret: secret, listen: listen, maxConnections: maxConnections)
        }
        var flow = FlowDefinition.defaults
        if let file = r.optionalString("FLOW_FILE") {
            do throws(FlowFileError) {
                flow = try FlowFile.load(path: file)
            } catch {
                r.problem("FLOW_FILE", error.description)
            }
        }
        let timeout = r.duration("TELEGRAM_POLL_TIMEOUT", default: .seconds(30), min: .zero, max: .seconds(50))
        let global = r.double("TELEGRAM_GLOBAL_RATE", default: 29.5, range: 0.1...1000)
        let chat = r.double("TELEGRAM_CHAT_RATE", default: 1, range: 0.01...100)
        let group = r.double("TELEGRAM_GROUP_RATE", default: 20, range: 0.1...1000)
        let delaysRaw = r.string("SEND_RETRY_DELAYS", default: "1s,5s,15s")
        var delays: [Duration] = []
        for piece in delaysRaw.split(separator: ",") {
            if let d = DurationParser.parse(String(piece)), d <= .seconds(3600) { delays.append(d) } else {
                r.problem(
                    "SEND_RETRY_DELAYS", "expected durations of at most 1h separated by commas, got '\(ConfigReader.shown(delaysRaw))'")
                break
            }
        }
        if delays.count > 10 {
            r.problem("SEND_RETRY_DELAYS", "at most 10 retries, got \(delays.count)")
            delays = Array(delays.prefix(10))
        }
        let maxRetryAfter = r.duration(
            "TELEGRAM_MAX_RETRY_AFTER", default: .seconds(3600), min: .seconds(1), max: .seconds(86400))
        let inbound = r.int("INBOUND_LIMIT", default: 10, range: 0...10_000)
        let window = r.duration("INBOUND_WINDOW", default: .seconds(60), min: .seconds(1), max: .seconds(86400))
        let ttl = r.duration("USER_STATE_TTL", default: .seconds(30 * 86400), min: .zero, max: .seconds(10 * 365 * 86400))
        let workers = r.int("GATEWAY_WORKERS", default: 32, range: 1...1024)
        var config = GatewayConfiguration(
            botToken: token, telegramAPI: api, mode: mode, flow: flow, pollTimeoutSeconds: Int(timeout.milliseconds / 1000),
            globalRate: global, chatRate: chat, groupRatePerMinute: group, sendRetryDelays: delays, inboundLimit: inbound,
            inboundWindow: window, stateTTL: ttl == .zero ? nil : ttl, workers: workers)
        config.maxRetryAfter = maxRetryAfter
        config.paidBroadcastRate = r.double("BROADCAST_PAID_RATE", default: 100, range: 1...1000)
        config.club = ClubConfiguration.read(&r)
        if var club = config.club {
            for problem in club.adopt(flow.topics) { r.problem("FLOW_FILE", problem) }
            config.club = club
        } else if let topic = flow.topics.first(where: { $0.chats != nil || $0.accessPeriod != nil }) {
            r.problem("FLOW_FILE", "topic '\(topic.id)' names club chats or an access_period: that needs CLUB_CHAT_ID")
        }
        config.deadLetterRetention = r.duration(
            "DEAD_LETTER_RETENTION", default: .seconds(30 * 86400), min: .seconds(60), max: .seconds(3650 * 86400))
        return config
    }

    static func looksLikeToken(_ token: String) -> Bool {
        let parts = token.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy(\.isNumber), !parts[1].isEmpty else { return false }
        return parts[1].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }

    static func parseListen(_ raw: String) -> HTTPListenTarget? {
        if raw.hasPrefix("unix:/") { return .unix(path: String(raw.dropFirst(5))) }
        guard let colon = raw.lastIndex(of: ":"), let port = Int(raw[raw.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        var host = String(raw[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : .tcp(host: host, port: port)
    }

    /// The path of a URL (`https://h/tg/hook?x` → `/tg/hook`).
    static func path(of url: String) -> String {
        guard let scheme = url.range(of: "://") else { return "/" }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        let path = rest[slash...]
        return String(path.split(separator: "?", maxSplits: 1).first ?? "/")
    }
}
