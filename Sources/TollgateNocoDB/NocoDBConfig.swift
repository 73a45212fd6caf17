import Logging
import TollgateCoordination
import TollgateCore

/// Everything the NocoDB client needs, read from the environment (both services read the same
/// variables).
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `NOCODB_URL` | required | base URL, e.g. `https://app.nocodb.com` |
/// | `NOCODB_TOKEN` | required | API token (`xc-token`); or credential `nocodb-token` |
/// | `NOCODB_TABLE_ID` | required | the users table |
/// | `NOCODB_TELEGRAM_ID_FIELD` | `TelegramId` | column holding the Telegram user id |
/// | `NOCODB_PAID_FIELD` | `Paid` | checkbox column set when the user has paid |
/// | `NOCODB_PAID_UNTIL_FIELD` | unset | a Date/DateTime column: the end of the paid period (``PaidUntil``); a row counts as paid only while it is ahead |
/// | `NOCODB_RATE_LIMIT` | `5` | requests per window per token, all processes together |
/// | `NOCODB_RATE_WINDOW` | `1s` | the window of that limit |
/// | `NOCODB_RATE_MARGIN` | `0.25` | spacing widened by this fraction against arrival jitter (250 ms for 5/s: tolerates 250 ms) |
/// | `NOCODB_THROTTLE_BLOCK` | `30s` | how long a 429 blocks the token (at least Retry-After) |
/// | `NOCODB_MAX_RETRY_AFTER` | `5m` | the longest block a 429's `Retry-After` may set (longer values are cut, logged) |
/// | `NOCODB_TIMEOUT` | `10s` | per-request timeout |
/// | `NOCODB_MAX_ATTEMPTS` | `5` | attempts on 5xx/timeouts before giving up |
/// | `NOCODB_BACKOFF_BASE` / `NOCODB_BACKOFF_CAP` | `250ms` / `10s` (each at most 60 s) | exponential backoff with jitter |
/// | `NOCODB_PAGE_LIMIT` | `100` | the server's page limit (ids per batch request) |
public struct NocoDBConfig: Sendable {
    public var baseURL: String
    public var token: Secret
    public var tableID: String
    public var telegramIDField: String
    public var paidField: String
    /// The column holding the end of the paid period (`NOCODB_PAID_UNTIL_FIELD`); nil: none.
    public var paidUntilField: String?
    /// The column naming the offer paid for (`NOCODB_OFFER_FIELD`, written by the payment
    /// system); nil: none, the offer is the user's pick.
    public var offerField: String?
    public var options: NocoDBClient.Options

    public init(
        baseURL: String, token: Secret, tableID: String, telegramIDField: String = "TelegramId",
        paidField: String = "Paid", paidUntilField: String? = nil, offerField: String? = nil,
        options: NocoDBClient.Options = .init()
    ) {
        self.paidUntilField = paidUntilField
        self.offerField = offerField
        self.baseURL = baseURL
        self.token = token
        self.tableID = tableID
        self.telegramIDField = telegramIDField
        self.paidField = paidField
        self.options = options
    }

    /// Reads the variables above; problems are collected in `reader`.
    public static func read(_ reader: inout ConfigReader) -> NocoDBConfig {
        let url = reader.httpURL("NOCODB_URL")
        let token = reader.secret("NOCODB_TOKEN", credential: "nocodb-token") ?? Secret("")
        let table = reader.string("NOCODB_TABLE_ID")
        if !table.isEmpty, !NocoDBClient.isValidTableID(table) {
            reader.problem("NOCODB_TABLE_ID", "expected letters, digits, '_' or '-', got '\(table.prefix(60))'")
        }
        let telegramField = reader.string("NOCODB_TELEGRAM_ID_FIELD", default: "TelegramId")
        let paidField = reader.string("NOCODB_PAID_FIELD", default: "Paid")
        var paidUntilField = reader.optionalString("NOCODB_PAID_UNTIL_FIELD")
        if let field = paidUntilField {
            if field.isEmpty {
                paidUntilField = nil
            } else if field.utf8.count > 64 || field == paidField || field == telegramField {
                reader.problem("NOCODB_PAID_UNTIL_FIELD", "expected a column name of at most 64 bytes, other than the Paid and TelegramId columns")
                paidUntilField = nil
            }
        }
        var offerField = reader.optionalString("NOCODB_OFFER_FIELD")
        if let field = offerField {
            if field.isEmpty {
                offerField = nil
            } else if field.utf8.count > 64 || [paidField, telegramField, paidUntilField].contains(field) {
                reader.problem(
                    "NOCODB_OFFER_FIELD", "expected a column name of at most 64 bytes, other than the Paid, TelegramId and paid-until columns")
                offerField = nil
            }
        }
        var options = NocoDBClient.Options()
        let limit = reader.int("NOCODB_RATE_LIMIT", default: 5, range: 1...10_000)
        let window = reader.duration("NOCODB_RATE_WINDOW", default: .seconds(1), min: .milliseconds(10), max: .seconds(3600))
        let margin = reader.double("NOCODB_RATE_MARGIN", default: 0.25, range: 0...1)
        options.rate = .perWindow(limit, window: window, margin: margin)
        options.throttleBlock = reader.duration("NOCODB_THROTTLE_BLOCK", default: .seconds(30), max: .seconds(3600))
        options.maxRetryAfter = reader.duration(
            "NOCODB_MAX_RETRY_AFTER", default: .seconds(300), min: .seconds(1), max: .seconds(86400))
        if options.maxRetryAfter < options.throttleBlock {
            reader.problem("NOCODB_MAX_RETRY_AFTER", "must not be shorter than NOCODB_THROTTLE_BLOCK")
            options.maxRetryAfter = options.throttleBlock
        }
        options.timeout = reader.duration("NOCODB_TIMEOUT", default: .seconds(10), min: .milliseconds(100), max: .seconds(300))
        options.maxAttempts = reader.int("NOCODB_MAX_ATTEMPTS", default: 5, range: 1...50)
        options.backoffBase = reader.duration(
            "NOCODB_BACKOFF_BASE", default: .milliseconds(250), min: .milliseconds(1), max: .seconds(60))
        options.backoffCap = reader.duration("NOCODB_BACKOFF_CAP", default: .seconds(10), min: .milliseconds(1), max: .seconds(60))
        if options.backoffCap < options.backoffBase {
            reader.problem("NOCODB_BACKOFF_CAP", "must not be shorter than NOCODB_BACKOFF_BASE")
            options.backoffCap = options.backoffBase
        }
        options.pageLimit = reader.int("NOCODB_PAGE_LIMIT", default: 100, range: 1...1000)
        return NocoDBConfig(
            baseURL: url, token: token, tableID: table, telegramIDField: telegramField, paidField: paidField,
            paidUntilField: paidUntilField, offerField: offerField, options: options)
    }
}
