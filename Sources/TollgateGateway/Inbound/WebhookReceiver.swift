import Foundation
import Logging
import Synchronization
import TollgateCore
import TollgateHTTPServer
import TollgateRedis
import TollgateTelegram

/// The webhook endpoint: Telegram POSTs each update here with `X-Telegram-Bot-Api-Secret-Token`.
///
/// - A missing or wrong secret: 401, nothing read, nothing recorded.
/// - A body that is not an update: 400, nothing recorded.
/// - Otherwise the update is recorded in the ``UpdateJournal`` (dedup by `update_id`) and only
///   then answered 200; if Redis cannot take it, 503 — Telegram retries later.
///
/// Any gateway instance may receive webhooks; the leader's ``UpdateProcessor`` handles them.
public final class WebhookReceiver: Sendable {
    public struct Counters: Sendable, Equatable {
        public var accepted = 0
        public var duplicates = 0
        public var unauthorized = 0
        public var malformed = 0
        public var unavailable = 0
    }

    let path: String
    let secret: Secret
    let journal: UpdateJournal
    let redis: RedisClientPool
    let logger: Logger
    let counters = Mutex(Counters())
    let faultLog = LogThrottle(interval: .seconds(60))

    /// - Parameter path: the path of `WEBHOOK_URL` (`/telegram/webhook`); other paths are 404.
    public init(path: String, secret: Secret, journal: UpdateJournal, redis: RedisClientPool, logger: Logger) {
        self.path = path.isEmpty ? "/" : path
        self.secret = secret
        self.journal = journal
        self.redis = redis
        self.logger = logger
    }

    public var stats: Counters { counters.withLock { $0 } }

    /// What the pure part of the webhook path makes of a request: every check before Redis.
    public enum Admission: Sendable, Equatable {
        case notFound
        case methodNotAllowed
        case unauthorized
        /// The body is not an update (no readable `update_id`).
        case notAnUpdate
        case update(Update)
    }

    /// Path, method, secret (compared in constant time) and body, in that order: a request without
    /// the right secret is refused before its body is read.
    public static func admit(_ request: HTTPServerRequest, path: String, secret: Secret) -> Admission {
        guard request.path == path else { return .notFound }
        guard request.method == "POST" else { return .methodNotAllowed }
        guard let given = request.header("X-Telegram-Bot-Api-Secret-Token"),
            constantTimeEquals(Array(given.utf8), Array(secret.exposedValue.utf8))
        else { return .unauthorized }
        guard let update = try? JSONDecoder().decode(Update.self, from: Data(request.body)) else { return .notAnUpdate }
        return .update(update)
    }

    public func handle(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        let update: Update
        switch Self.admit(request, path: path, secret: secret) {
        case .notFound: return .text("not found", status: 404)
        case .methodNotAllowed: return .text("method not allowed", status: 405)
        case .unauthorized:
            counters.withLock { $0.unauthorized += 1 }
            logger.warning("webhook request with a missing or wrong secret token refused")
            return .text("unauthorized", status: 401)
        case .notAnUpdate:
            counters.withLock { $0.malformed += 1 }
            if let held = faultLog.admit("not-an-update") {
                logger.warning(
                    "webhook body is not a Telegram update (no readable update_id); answered 400",
                    metadata: ["bytes": "\(request.body.count)", "suppressed": "\(held)"])
            }
            return .text("not a Telegram update", status: 400)
        case .update(let admitted):
            update = admitted
        }
        if !update.unreadable.isEmpty, let held = faultLog.admit("unreadable-part") {
            // Recorded all the same, and skipped: retrying cannot make it readable.
            logger.warning(
                "webhook update with unreadable parts; recorded and skipped",
                metadata: [
                    "update": "\(update.updateID)", "parts": "\(update.unreadable.joined(separator: ","))", "suppressed": "\(held)",
                ])
        }
        do {
            let result = try await journal.record([update], commitOffset: nil, on: redis.next())
            counters.withLock {
                $0.accepted += result.recorded
                $0.duplicates += result.duplicates
            }
            return .text("ok")
        } catch {
            counters.withLock { $0.unavailable += 1 }
            logger.warning("webhook update not recorded", metadata: ["error": "\(error)"])
            return HTTPServerResponse(status: 503, headers: [("Retry-After", "1")], body: Array("try again".utf8))
        }
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
