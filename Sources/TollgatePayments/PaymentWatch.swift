/// One watched payment: a user waiting for their NocoDB row to turn Paid.
public struct PaymentWatch: Sendable, Hashable {
    public var userID: Int64
    public var chatID: Int64
    /// The row's `Id`, when the gateway knew it.
    public var recordID: Int64?
    /// The value of the TelegramId column, when the row is named that way.
    public var telegramID: String?
    /// Unique per watch (a re-watch keeps it; unwatch + watch makes a new one).
    public var watchID: Int64
    /// Unix ms (Redis clock).
    public var createdMs: Int64
    /// Unix ms of the last check, 0 before the first.
    public var checkedMs: Int64
    public var expiresMs: Int64
    public var notifyExpired: Bool
    /// How many times the row was checked.
    public var checks: Int64

    public init(
        userID: Int64, chatID: Int64, recordID: Int64?, telegramID: String?, watchID: Int64, createdMs: Int64,
        checkedMs: Int64 = 0, expiresMs: Int64, notifyExpired: Bool = false, checks: Int64 = 0
    ) {
        self.userID = userID
        self.chatID = chatID
        self.recordID = recordID
        self.telegramID = telegramID
        self.watchID = watchID
        self.createdMs = createdMs
        self.checkedMs = checkedMs
        self.expiresMs = expiresMs
        self.notifyExpired = notifyExpired
        self.checks = checks
    }

    /// How the row is looked up: by `Id` when known (exact), else by the Telegram id column.
    public var reference: Reference {
        if let recordID { return .record(recordID) }
        return .telegram(telegramID ?? "")
    }

    public enum Reference: Sendable, Hashable {
        case record(Int64)
        case telegram(String)
    }

    /// Reads the Redis hash of a watch (`HGETALL` as alternating names and values).
    init?(hash: [String: String]) {
        guard let user = hash["user"].flatMap(Int64.init), let chat = hash["chat"].flatMap(Int64.init),
            let watch = hash["watch"].flatMap(Int64.init), let storedCreated = hash["created"].flatMap(Int64.init),
            let expires = hash["expires"].flatMap(Int64.init)
        else { return nil }
        let record = hash["record"].flatMap { $0.isEmpty ? nil : Int64($0) }
        let telegram = hash["tg"].flatMap { $0.isEmpty ? nil : $0 }
        guard record != nil || telegram != nil else { return nil }
        // Times come from Redis: one before 1970 or after `expires` is not a creation time.
        let created = min(max(0, storedCreated), max(0, expires))
        self.init(
            userID: user, chatID: chat, recordID: record, telegramID: telegram, watchID: watch, createdMs: created,
            checkedMs: hash["checked"].flatMap(Int64.init) ?? 0, expiresMs: expires, notifyExpired: hash["notify"] == "1",
            checks: hash["checks"].flatMap(Int64.init) ?? 0)
    }
}

/// A paid row matched to a watch: what ``PaymentOutcomes`` acts on.
public struct PaymentConfirmation: Sendable, Hashable {
    public var watch: PaymentWatch
    /// The paid row's `Id`.
    public var recordID: Int64
    /// The row's `UpdatedAt` (Unix ms), when it had one.
    public var paidAtMs: Int64?

    public init(watch: PaymentWatch, recordID: Int64, paidAtMs: Int64?) {
        self.watch = watch
        self.recordID = recordID
        self.paidAtMs = paidAtMs
    }
}
