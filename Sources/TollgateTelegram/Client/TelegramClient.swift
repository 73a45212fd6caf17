#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import Logging
import Synchronization
import TollgateCore
import TollgateHTTP

/// A Telegram Bot API client on ``HTTPClient`` (libcurl).
///
/// Every call is `POST <apiURL>/bot<token>/<method>` with a JSON body (multipart when a file is
/// uploaded), decoded from the `{"ok":...}` envelope into a value or a typed ``TelegramError``.
/// The client never retries by itself: the caller knows whether a call may be repeated (a
/// `sendMessage` that timed out may have been delivered). The token lives only in the URL of
/// requests; logs, errors and ``Stats`` never carry it.
///
/// ```swift
/// let telegram = TelegramClient(token: token, apiURL: "https://api.telegram.org", http: http, logger: logger)
/// let me = try await telegram.getMe()
/// let sent = try await telegram.sendMessage(chatID: 42, text: "hi", replyMarkup: .init([[.callback("Go", data: "go")]]))
/// ```
public final class TelegramClient: Sendable {
    /// Call counters, safe to export as metrics.
    public struct Stats: Sendable, Equatable {
        /// Calls made, by method.
        public var calls: [String: Int] = [:]
        /// Failed calls, by ``TelegramError/Code`` raw value.
        public var errors: [String: Int] = [:]
        /// Files uploaded (multipart), and uploads avoided because the media cache knew a `file_id`.
        public var uploads = 0
        public var uploadsAvoided = 0

        public init() {}
    }

    /// The API base without the bot path (`https://api.telegram.org`).
    public let apiURL: String
    /// The bot's numeric id: the part of the token before `:` (not secret), for logs and keys.
    public let botID: String
    /// How long an ordinary call may take.
    public let requestTimeout: Duration
    /// Where `file_id`s of uploaded files are kept, so each file is uploaded once.
    public let mediaCache: (any TelegramMediaCache)?
    /// The longest wait a reply's `retry_after` (or `Retry-After`) may ask for
    /// (`TELEGRAM_MAX_RETRY_AFTER`, 1 h by default); longer ones are cut to it and logged.
    public let maxRetryAfter: PeerWait

    private let token: Secret
    private let http: HTTPClient
    private let logger: Logger
    private let counters = Mutex(Stats())
    private let faultLog = LogThrottle(interval: .seconds(60))
    let uploads = UploadSingleFlight()

    /// - Parameters:
    ///   - apiURL: `TELEGRAM_API_URL`; a trailing `/` is ignored.
    ///   - mediaCache: keeps the `file_id` returned for an upload (see ``RedisMediaCache``).
    public init(
        token: Secret, apiURL: String = "https://api.telegram.org", http: HTTPClient,
        requestTimeout: Duration = .seconds(15), mediaCache: (any TelegramMediaCache)? = nil,
        maxRetryAfter: Duration = .seconds(3600), logger: Logger
    ) {
        self.maxRetryAfter = PeerWait(name: "TELEGRAM_MAX_RETRY_AFTER", max: maxRetryAfter)
        self.token = token
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.botID = token.exposedValue.split(separator: ":", maxSplits: 1).first.map(String.init) ?? "bot"
        self.http = http
        self.requestTimeout = requestTimeout
        self.mediaCache = mediaCache
        self.logger = logger
    }

    /// Counters so far.
    public var stats: Stats { counters.withLock { $0 } }

    /// Calls `method` with `parameters` and decodes the envelope's `result` as `R`.
    ///
    /// - Parameter timeout: the whole request's limit (default ``requestTimeout``).
    /// - Throws: ``TelegramError`` only.
    public func call<R: Decodable & Sendable>(
        _ method: String, _ parameters: TelegramParameters = TelegramParameters(), as: R.Type = R.self,
        timeout: Duration? = nil
    ) async throws(TelegramError) -> R {
        counters.withLock {
            $0.calls[method, default: 0] += 1
            if parameters.hasUploads { $0.uploads += 1 }
        }
        do {
            return try await perform(method, parameters, timeout: timeout ?? requestTimeout)
        } catch {
            var error = error
            if let asked = error.retryAfter {
                let bounded = maxRetryAfter.bound(asked)
                error.retryAfter = bounded.wait
                if bounded.wasClamped, let held = faultLog.admit("retry-after") {
                    logger.warning(
                        "Telegram asked for a longer wait than allowed; waiting the maximum",
                        metadata: [
                            "method": "\(method)", "asked_s": "\(asked.milliseconds / 1000)",
                            "waiting_s": "\(bounded.wait.milliseconds / 1000)", "setting": "\(maxRetryAfter.name)",
                            "suppressed": "\(held)",
                        ])
                }
            }
            if error.code == .invalidResponse, let held = faultLog.admit("invalid-response:\(method)") {
                logger.warning(
                    "Telegram reply unreadable",
                    metadata: ["method": "\(method)", "detail": "\(error.detail)", "suppressed": "\(held)"])
            }
            counters.withLock { $0.errors[error.code.rawValue, default: 0] += 1 }
            logger.debug(
                "telegram call failed",
                metadata: ["method": "\(method)", "code": "\(error.code.rawValue)", "detail": "\(error.detail)"])
            throw error
        }
    }

    private func perform<R: Decodable & Sendable>(
        _ method: String, _ parameters: TelegramParameters, timeout: Duration
    ) async throws(TelegramError) -> R {
        let request = HTTPRequest(
            method: "POST", url: "\(apiURL)/bot\(token.exposedValue)/\(method)", body: parameters.body(),
            connectTimeout: .seconds(5), timeout: timeout, maxResponseBytes: 32 << 20)
        let response: HTTPResponse
        do {
            response = try await http.execute(request)
        } catch {
            throw TelegramError.fromTransport(method: method, error)
        }
        return try Self.decode(method: method, response)
    }

    /// Reads a Bot API reply: the value of `result`, or the typed error the envelope (or the HTTP
    /// status) says. Public for the fuzz harnesses; every reply the client gets goes through it.
    public static func decode<R: Decodable & Sendable>(method: String, _ response: HTTPResponse) throws(TelegramError) -> R {
        let envelope: Envelope<R>
        do {
            envelope = try JSONDecoder().decode(Envelope<R>.self, from: Data(response.body))
        } catch {
            if response.isSuccess {
                // A 200 whose body we cannot read: the call probably took effect.
                throw TelegramError(
                    code: .invalidResponse, method: method, errorCode: response.status,
                    detail: "undecodable reply: \(Self.explain(error))", mayHaveTakenEffect: true)
            }
            throw TelegramError.fromReply(
                method: method, status: response.status, errorCode: nil, description: nil, retryAfterSeconds: nil,
                migrateToChatID: nil, headerRetryAfter: response.retryAfter)
        }
        if envelope.ok {
            guard let result = envelope.result else {
                throw TelegramError(
                    code: .invalidResponse, method: method, errorCode: response.status,
                    detail: "reply has ok=true but no result", mayHaveTakenEffect: true)
            }
            return result
        }
        throw TelegramError.fromReply(
            method: method, status: response.status, errorCode: envelope.errorCode,
            description: envelope.description, retryAfterSeconds: envelope.parameters?.retryAfter,
            migrateToChatID: envelope.parameters?.migrateToChatID, headerRetryAfter: response.retryAfter)
    }

    static func explain(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing '\(key.stringValue)' at \(path(context))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(path(context))"
        case DecodingError.dataCorrupted(let context):
            return "not JSON (\(path(context)))"
        default:
            return "\(type(of: error))"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let joined = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        return joined.isEmpty ? "top level" : joined
    }

    func noteUploadAvoided() {
        counters.withLock { $0.uploadsAvoided += 1 }
    }
}

/// The Bot API reply envelope.
struct Envelope<R: Decodable>: Decodable {
    var ok: Bool
    var result: R?
    var errorCode: Int?
    var description: String?
    var parameters: ResponseParameters?

    enum CodingKeys: String, CodingKey {
        case ok, result
        case errorCode = "error_code"
        case description, parameters
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ok = try c.decode(Bool.self, forKey: .ok)
        result = ok ? try c.decodeIfPresent(R.self, forKey: .result) : nil
        errorCode = try? c.decodeIfPresent(Int.self, forKey: .errorCode)
        description = try? c.decodeIfPresent(String.self, forKey: .description)
        parameters = try? c.decodeIfPresent(ResponseParameters.self, forKey: .parameters)
    }
}

/// `parameters` of an error reply.
struct ResponseParameters: Decodable {
    var retryAfter: Int?
    var migrateToChatID: Int64?

    enum CodingKeys: String, CodingKey {
        case retryAfter = "retry_after"
        case migrateToChatID = "migrate_to_chat_id"
    }
}
