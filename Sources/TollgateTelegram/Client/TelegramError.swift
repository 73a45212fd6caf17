import TollgateCore
import TollgateHTTP

/// The one error of TollgateTelegram: a stable ``code`` to switch on, the Bot API method, and
/// what Telegram (or the transport) said.
///
/// The description never contains the bot token: Telegram's own text and the transport's detail
/// pass through `Redactor.shared`, and URLs appear only in their redacted form.
public struct TelegramError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, stable across releases (metrics labels and retry decisions use it).
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// 429 Too Many Requests: wait ``TelegramError/retryAfter`` before the next call.
        case rateLimited
        /// 403: the bot was blocked by the user, the user is deactivated, the bot was kicked from
        /// the group, or may not write to that user. Permanent for this chat.
        case forbidden
        /// 400 "chat not found" (or "user not found"): permanent for this chat id.
        case chatNotFound
        /// 400 with `migrate_to_chat_id`: the group became a supergroup with a new id.
        case chatMigrated
        /// 409 Conflict: another `getUpdates` is running, or a webhook is set.
        case conflict
        /// 401 Unauthorized (or 404 for the bot path): the token is wrong or revoked.
        case unauthorized
        /// Any other 4xx: the request itself is wrong; sending it again cannot help.
        case badRequest
        /// 5xx, a timeout or a broken connection: the same call may succeed later. For a send
        /// that timed out, the message may already have been delivered.
        case transient
        /// The reply was not a Bot API envelope (a proxy's HTML page, garbage, a wrong shape).
        case invalidResponse
        /// The calling task was cancelled or the HTTP client shut down.
        case cancelled
    }

    /// The stable error code.
    public var code: Code
    /// The Bot API method called (`sendMessage`).
    public var method: String
    /// Telegram's `error_code` (= HTTP status), or the HTTP status when the body was not an envelope.
    public var errorCode: Int?
    /// Telegram's `description`, or the transport's explanation, redacted.
    public var detail: String
    /// How long to wait before trying again (`parameters.retry_after`, else `Retry-After`).
    public var retryAfter: Duration?
    /// The supergroup's new chat id, for ``Code/chatMigrated``.
    public var migrateToChatID: Int64?
    /// Whether the request may have reached Telegram and taken effect (a timeout after sending, a
    /// connection that broke while waiting for the reply, an unreadable 200). A reply with an error
    /// status (5xx, 429, 4xx) is an answer: the call did not take effect.
    public var mayHaveTakenEffect: Bool

    public init(
        code: Code, method: String, errorCode: Int? = nil, detail: String, retryAfter: Duration? = nil,
        migrateToChatID: Int64? = nil, mayHaveTakenEffect: Bool = false
    ) {
        self.code = code
        self.method = method
        self.errorCode = errorCode
        self.detail = Redactor.shared.redact(detail)
        self.retryAfter = retryAfter
        self.migrateToChatID = migrateToChatID
        self.mayHaveTakenEffect = mayHaveTakenEffect
    }

    /// The chat will never accept messages from the bot again (until the user unblocks it):
    /// ``Code/forbidden`` and ``Code/chatNotFound``. Later sends to it should be suppressed.
    public var isPermanentForChat: Bool { code == .forbidden || code == .chatNotFound }

    /// Trying the same call again later may succeed: ``Code/rateLimited`` (after ``retryAfter``)
    /// and ``Code/transient``.
    public var isRetryable: Bool { code == .rateLimited || code == .transient }

    public var description: String {
        var text = "TelegramError.\(code.rawValue) in \(method)"
        if let errorCode { text += " (\(errorCode))" }
        if !detail.isEmpty { text += ": \(detail)" }
        if let retryAfter { text += "; retry after \(retryAfter.milliseconds) ms" }
        if let migrateToChatID { text += "; migrated to chat \(migrateToChatID)" }
        return Redactor.shared.redact(text)
    }

    /// Maps a Bot API error reply (or a non-envelope HTTP status) to an error.
    static func fromReply(
        method: String, status: Int, errorCode: Int?, description: String?, retryAfterSeconds: Int?,
        migrateToChatID: Int64?, headerRetryAfter: Duration?
    ) -> TelegramError {
        let codeNumber = errorCode ?? status
        let text = description ?? "HTTP \(status)"
        let lower = text.lowercased()
        let retryAfter = retryAfterSeconds.map { Duration.seconds(max(0, $0)) } ?? headerRetryAfter
        let code: Code
        switch codeNumber {
        case 429: code = .rateLimited
        case 403: code = .forbidden
        case 409: code = .conflict
        case 401: code = .unauthorized
        case 404 where lower.contains("not found") && !lower.contains("chat"): code = .unauthorized
        case 400 where migrateToChatID != nil: code = .chatMigrated
        case 400 where lower.contains("chat not found") || lower.contains("user not found")
            || lower.contains("peer_id_invalid"):
            code = .chatNotFound
        case 500...599: code = .transient
        case 400...499: code = .badRequest
        default: code = .invalidResponse
        }
        return TelegramError(
            code: code, method: method, errorCode: codeNumber, detail: text,
            retryAfter: code == .rateLimited ? (retryAfter ?? .seconds(1)) : retryAfter,
            // A reply with a status is Telegram's answer to the call: it did not take effect.
            migrateToChatID: migrateToChatID, mayHaveTakenEffect: false)
    }

    /// Maps a transport failure of the HTTP client.
    static func fromTransport(method: String, _ error: HTTPClientError) -> TelegramError {
        switch error.code {
        case .cancelled, .shutdown:
            return TelegramError(code: .cancelled, method: method, detail: error.description)
        case .connectFailed, .connectTimeout, .expired:
            // Nothing reached Telegram.
            return TelegramError(code: .transient, method: method, detail: error.description)
        case .timeout, .transport:
            return TelegramError(code: .transient, method: method, detail: error.description, mayHaveTakenEffect: true)
        case .invalidURL:
            return TelegramError(code: .invalidResponse, method: method, detail: error.description)
        case .responseTooLarge:
            // Telegram answered (too much to read): the call may have been carried out.
            return TelegramError(code: .invalidResponse, method: method, detail: error.description, mayHaveTakenEffect: true)
        }
    }
}
