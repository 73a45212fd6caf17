import Logging
import ServiceLifecycle
import Synchronization
import TollgateHTTP
import TollgateHTTPServer

/// A Telegram Bot API simulator for the sandbox, the tests and the benchmarks, faithful to the
/// wire facts in FACTS.md.
///
/// - `/bot<token>/<method>` (method names case-insensitive), GET or POST, parameters as query,
///   form, JSON or multipart; replies `{"ok":true,"result":...}` or
///   `{"ok":false,"error_code":N,"description":...,"parameters":{...}}` with HTTP status N.
/// - Methods: getMe, getUpdates, setWebhook, deleteWebhook, getWebhookInfo, sendMessage,
///   sendPhoto, sendVideo, sendDocument, sendMediaGroup, answerCallbackQuery, editMessageText.
/// - Long polling: offsets confirm earlier updates, `timeout` 0...50, `limit` 1...100,
///   `allowed_updates` (sticky). A new getUpdates ends a waiting one with 409 (Telegram's
///   "terminated by other getUpdates request"); getUpdates while a webhook is set is 409.
/// - Webhook: updates are POSTed with `X-Telegram-Bot-Api-Secret-Token`, one chat's in order,
///   other chats in parallel up to `max_connections`; non-2xx replies are retried with backoff and
///   a 429's `retry_after` is honoured. Plain `http://` webhooks are accepted (for tests).
/// - Flood control (``SimFloodLimits``): 429 with `parameters.retry_after` and `Retry-After`.
/// - Blocked or deactivated users and kicked bots get 403, unknown chats 400, migrated groups 400
///   with `migrate_to_chat_id`.
///
/// The control side — inject messages and button presses, block users, read what the bot sent,
/// counters — is this class's Swift API and, over HTTP, `/_sim/...` (see ``SimControlRoutes``).
public final class TelegramSimulator: Service, Sendable {
    /// Settings of a simulator.
    public struct Configuration: Sendable {
        /// The only token accepted (`123456:TEST-token`); its number is the bot's user id.
        public var token: String
        public var host: String
        /// 0 picks a free port.
        public var port: Int
        public var botUsername: String
        public var botFirstName: String
        public var floodLimits: SimFloodLimits
        /// The first webhook retry delay (doubling up to ``maxWebhookRetryDelay``).
        public var webhookRetryDelay: Duration
        public var maxWebhookRetryDelay: Duration
        /// How long the simulator waits for a webhook reply.
        public var webhookTimeout: Duration
        /// Accept `http://` webhook URLs (Telegram demands https; tests run on loopback).
        public var allowInsecureWebhook: Bool

        public init(
            token: String = "123456:TEST-token", host: String = "127.0.0.1", port: Int = 0,
            botUsername: String = "tollgate_sim_bot", botFirstName: String = "Tollgate Sim",
            floodLimits: SimFloodLimits = SimFloodLimits(), webhookRetryDelay: Duration = .seconds(1),
            maxWebhookRetryDelay: Duration = .seconds(60), webhookTimeout: Duration = .seconds(10),
            allowInsecureWebhook: Bool = true
        ) {
            self.token = token
            self.host = host
            self.port = port
            self.botUsername = botUsername
            self.botFirstName = botFirstName
            self.floodLimits = floodLimits
            self.webhookRetryDelay = webhookRetryDelay
            self.maxWebhookRetryDelay = maxWebhookRetryDelay
            self.webhookTimeout = webhookTimeout
            self.allowInsecureWebhook = allowInsecureWebhook
        }
    }

    public let configuration: Configuration
    let world: Mutex<SimWorld>
    let webhookWakeup = SimWakeup()
    let hostile = SimHostile()
    let logger: Logger
    private let started = SimEvent<HTTPServer>()

    public init(configuration: Configuration = Configuration(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.world = Mutex(
            SimWorld(
                token: configuration.token, botUsername: configuration.botUsername,
                botFirstName: configuration.botFirstName, limits: configuration.floodLimits))
    }

    /// `http://host:port` once the server listens (waits until then): the `TELEGRAM_API_URL`.
    public func baseURL() async throws -> String {
        let server = await started.wait()
        let address = try await server.listeningAddress()
        guard case .tcp(let host, let port) = address else { return "http://\(configuration.host)" }
        return host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }

    /// Serves the Bot API and the control API, and runs webhook delivery, until cancelled or
    /// shut down gracefully.
    public func run() async throws {
        let http = HTTPServer(
            name: "telegram-sim", target: .tcp(host: configuration.host, port: configuration.port),
            maxBodyBytes: 64 << 20, logger: logger
        ) { [self] request in
            await self.handle(request)
        }
        started.fire(http)
        let webhookClient = HTTPClient(name: "sim-webhook", maxConnections: 100, logger: logger)
        defer { webhookClient.shutdown() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await cancelWhenGracefulShutdown {
                    await self.deliverWebhooks(using: webhookClient)
                }
            }
            // The server decides when the simulator ends (graceful shutdown drains it first);
            // webhook delivery stops with it.
            do {
                try await http.run()
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    /// Routes one HTTP request.
    func handle(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        if request.path.hasPrefix("/_sim/") {
            return await SimControlRoutes.handle(request, simulator: self)
        }
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].hasPrefix("bot") else {
            return Self.reply(.failure(SimRefusal(status: 404, description: "Not Found")))
        }
        guard parts[0].dropFirst(3) == configuration.token else {
            world.withLock { $0.counters.unauthorized += 1 }
            return Self.reply(.failure(SimRefusal(status: 401, description: "Unauthorized")))
        }
        let method = String(parts[1])
        let params: SimParams
        switch SimParams.read(request) {
        case .success(let p): params = p
        case .failure(let refusal): return Self.reply(.failure(refusal))
        }
        world.withLock { $0.counters.requests[method, default: 0] += 1 }
        if let (fault, detail) = hostile.draw(route: method) {
            let real = fault.applies ? await apply(method, params) : nil
            return SimHostile.reply(
                fault, detail: detail, real: real,
                errorBody: #"{"ok":false,"error_code":500,"description":"Internal Server Error"}"#)
        }
        return await apply(method, params)
    }

    /// Carries out one Bot API call.
    private func apply(_ method: String, _ params: SimParams) async -> HTTPServerResponse {
        if method.lowercased() == "getupdates" {
            return await getUpdates(params)
        }
        let allowInsecure = configuration.allowInsecureWebhook
        let result: Result<SimJSON, SimRefusal> = world.withLock { w in
            let outcome: Result<SimJSON, SimRefusal>
            switch method.lowercased() {
            case "getme": outcome = w.getMe()
            case "sendmessage": outcome = w.sendMessage(params)
            case "sendphoto": outcome = w.sendMedia("photo", method: "sendPhoto", params)
            case "sendvideo": outcome = w.sendMedia("video", method: "sendVideo", params)
            case "senddocument": outcome = w.sendMedia("document", method: "sendDocument", params)
            case "sendmediagroup": outcome = w.sendMediaGroup(params)
            case "editmessagetext": outcome = w.editMessageText(params)
            case "answercallbackquery": outcome = w.answerCallbackQuery(params)
            case "setwebhook": outcome = w.setWebhook(params, allowInsecure: allowInsecure)
            case "deletewebhook": outcome = w.deleteWebhook(params)
            case "getwebhookinfo": outcome = .success(w.webhookInfo())
            case "getchat": outcome = w.getChat(params)
            case "getchatmember": outcome = w.getChatMember(params)
            case "createchatinvitelink": outcome = w.createChatInviteLink(params)
            case "revokechatinvitelink": outcome = w.revokeChatInviteLink(params)
            case "banchatmember": outcome = w.banChatMember(params)
            case "unbanchatmember": outcome = w.unbanChatMember(params)
            case "approvechatjoinrequest": outcome = w.answerJoinRequest(params, approve: true)
            case "declinechatjoinrequest": outcome = w.answerJoinRequest(params, approve: false)
            default: outcome = .failure(SimRefusal(status: 404, description: "Not Found"))
            }
            if case .failure(let refusal) = outcome { w.count(refusal) }
            return outcome
        }
        if ["banchatmember", "unbanchatmember", "approvechatjoinrequest"].contains(method.lowercased()) {
            updatesQueued()  // a membership change is an update (chat_member) for whoever waits
        }
        if method.lowercased() == "setwebhook" || method.lowercased() == "deletewebhook" {
            webhookWakeup.signal()
            // A webhook ends a waiting long poll, as in Telegram.
            let waiting = world.withLock { w -> SimEvent<PollOutcome>? in
                guard w.webhook != nil, let poll = w.poll else { return nil }
                w.poll = nil
                return poll.event
            }
            waiting?.fire(.conflict)
        }
        return Self.reply(result)
    }

    /// getUpdates: answers at once when updates are ready, else waits up to `timeout` seconds.
    func getUpdates(_ p: SimParams) async -> HTTPServerResponse {
        let offset: Int64?
        let limit: Int
        let timeout: Int
        switch (p.int("offset"), p.int("limit"), p.int("timeout")) {
        case (.success(let o), .success(let l), .success(let t)):
            offset = o
            limit = Int(min(max(l ?? 100, 1), 100))
            timeout = Int(min(max(t ?? 0, 0), 50))
        default:
            return Self.reply(.failure(.badRequest("Bad Request: invalid parameters")))
        }
        let allowed = p.json("allowed_updates")?.arrayValue?.compactMap(\.stringValue)
        enum Step {
            case answer(Result<SimJSON, SimRefusal>)
            case ready([[UInt8]])
            case wait(Int, SimEvent<PollOutcome>)
        }
        var replaced: SimEvent<PollOutcome>?
        let step: Step = world.withLock { w in
            if w.webhook != nil {
                w.counters.conflicts += 1
                return .answer(
                    .failure(
                        SimRefusal(
                            status: 409,
                            description:
                                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
                        )))
            }
            if let offset { w.confirm(offset: offset) }
            if let allowed { w.allowedUpdates = allowed }
            replaced = w.poll?.event
            w.poll = nil
            let ready = w.select(limit: limit)
            if !ready.isEmpty || timeout == 0 { return .ready(ready) }
            w.pollCounter += 1
            let event = SimEvent<PollOutcome>()
            w.poll = (w.pollCounter, event)
            return .wait(w.pollCounter, event)
        }
        replaced?.fire(.conflict)
        switch step {
        case .answer(let result):
            return Self.reply(result)
        case .ready(let updates):
            return Self.updatesReply(updates)
        case .wait(let id, let event):
            let outcome = await event.wait(timeout: .seconds(timeout), onTimeout: .timeout, onEnd: .ended)
            let updates: [[UInt8]]? = world.withLock { w in
                if w.poll?.id == id { w.poll = nil }
                switch outcome {
                case .conflict:
                    w.counters.conflicts += 1
                    return nil
                case .updates: return w.select(limit: limit)
                case .timeout, .ended: return []
                }
            }
            guard let updates else {
                return Self.reply(
                    .failure(
                        SimRefusal(
                            status: 409,
                            description:
                                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
                        )))
            }
            return Self.updatesReply(updates)
        }
    }

    /// Wakes a waiting long poll and the webhook loop after an update was queued.
    func updatesQueued() {
        let waiting = world.withLock { w -> SimEvent<PollOutcome>? in
            guard w.hasDeliverable, let poll = w.poll else { return nil }
            w.poll = nil
            return poll.event
        }
        waiting?.fire(.updates)
        webhookWakeup.signal()
    }

    static func updatesReply(_ updates: [[UInt8]]) -> HTTPServerResponse {
        var body = Array(#"{"ok":true,"result":["#.utf8)
        for (i, u) in updates.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body += u
        }
        body += Array("]}".utf8)
        return HTTPServerResponse(status: 200, headers: [("Content-Type", "application/json")], body: body)
    }

    static func reply(_ result: Result<SimJSON, SimRefusal>) -> HTTPServerResponse {
        switch result {
        case .success(let value):
            return HTTPServerResponse(
                status: 200, headers: [("Content-Type", "application/json")],
                body: SimJSON.obj([("ok", .bool(true)), ("result", value)]).encoded())
        case .failure(let refusal):
            var parameters: [(String, SimJSON?)] = []
            if let r = refusal.retryAfter { parameters.append(("retry_after", .int(Int64(r)))) }
            if let m = refusal.migrateTo { parameters.append(("migrate_to_chat_id", .int(m))) }
            let body = SimJSON.obj([
                ("ok", .bool(false)), ("error_code", .int(Int64(refusal.status))),
                ("description", .string(refusal.description)),
                ("parameters", parameters.isEmpty ? nil : .obj(parameters)),
            ])
            var headers = [("Content-Type", "application/json")]
            if let r = refusal.retryAfter { headers.append(("Retry-After", String(r))) }
            return HTTPServerResponse(status: refusal.status, headers: headers, body: body.encoded())
        }
    }
}

extension SimWorld {
    mutating func count(_ refusal: SimRefusal) {
        switch refusal.status {
        case 403: counters.forbidden += 1
        case 400 where refusal.description == SimRefusal.chatNotFound.description: counters.chatNotFound += 1
        case 400: counters.badRequests += 1
        case 401, 404: counters.unauthorized += 1
        default: break
        }
    }
}
