import Logging
import Synchronization
import TollgateCoordination
import TollgateCore
import TollgateHTTP

/// A NocoDB REST API v2 client in which every request — from any process of either service —
/// goes through the shared rate limiter for its token.
///
/// - Before each attempt: a slot from the ``RateLimiter`` for this token (default 5/s with a 25 %
///   margin: one request every 250 ms). If the limiter cannot be asked, nothing is sent.
/// - 429: the token is pushed back in the shared limiter by `max(Retry-After, throttleBlock)` (NocoDB
///   blocks a token for 30 s after a 429), cut to `maxRetryAfter`, so no process sends with it until
///   the block ends; then the request is tried again. Waits sleep in slices (``SlicedSleep``).
/// - 5xx and transport failures: exponential backoff with jitter, up to `maxAttempts`; requests that
///   are not idempotent (create) are not repeated when they may have been applied.
/// - One `HTTPClient` (keep-alive connections reused), the token only in the `xc-token` header.
/// - One log line per request: method, table, status, duration, and the running totals.
///
/// ```swift
/// let nocodb = NocoDBClient(config: config, http: http, limiter: limiter, logger: logger)
/// let (row, created) = try await nocodb.findOrCreate(telegramID: "4242", defaults: ["Paid": false])
/// ```
public final class NocoDBClient: Sendable {
    /// Tuning of the client.
    public struct Options: Sendable {
        /// The shared budget of one token.
        public var rate: RateLimitPolicy = .perWindow(5, window: .seconds(1), margin: 0.25)
        /// How long a 429 holds the token (at least what `Retry-After` says).
        public var throttleBlock: Duration = .seconds(30)
        /// The longest block a `Retry-After` may set (`NOCODB_MAX_RETRY_AFTER`): a longer value
        /// (10^20 seconds, a date in the year 9999) is cut to this and logged.
        public var maxRetryAfter: Duration = .seconds(300)
        /// Per-attempt timeout.
        public var timeout: Duration = .seconds(10)
        /// Attempts on 5xx and transport failures.
        public var maxAttempts = 5
        /// Attempts that may end in 429 before giving up (each waits out the block).
        public var maxThrottledAttempts = 3
        public var backoffBase: Duration = .milliseconds(250)
        public var backoffCap: Duration = .seconds(10)
        /// The server's page limit (100 on NocoDB Cloud): rows per list request at most.
        public var pageLimit = 100
        /// The level of the per-request log line.
        public var requestLogLevel: Logger.Level = .info
        /// Called between a slot's grant and the request (tests: a pause a busy machine would make).
        public var afterGrant: (@Sendable () async -> Void)?

        public init() {}
    }

    public let baseURL: String
    public let config: NocoDBConfig
    public let options: Options
    /// The limiter resource of this client's token (named by a fingerprint, never the token).
    public let resource: RateLimitedResource
    let token: Secret
    let http: HTTPClient
    /// The shared limiter every request goes through.
    public let limiter: any RateLimiter
    let logger: Logger
    let countersState = Mutex(NocoDBCounters())
    /// Logs each kind of hostile reply once a minute, not once per request.
    let faultLog = LogThrottle(interval: .seconds(60))
    /// Where requests wait for their slot and leave (one thread for the process): a granted slot
    /// must be on the wire within the limiter's jitter tolerance, and a busy cooperative pool must
    /// not stand between the grant and the send.
    static let sendPath = ThreadExecutor(name: "nocodb-send", forTasks: true)

    /// - Parameters:
    ///   - http: shared with other users if wished; its keep-alive connections are reused.
    ///   - limiter: the cluster-wide limiter (``RedisRateLimiter``) in services.
    public init(config: NocoDBConfig, http: HTTPClient, limiter: any RateLimiter, logger: Logger) {
        self.config = config
        self.baseURL = config.baseURL.hasSuffix("/") ? String(config.baseURL.dropLast()) : config.baseURL
        self.options = config.options
        self.token = config.token
        self.http = http
        self.limiter = limiter
        self.logger = logger
        self.resource = RateLimitedResource(
            name: "nocodb:" + RateLimitedResource.fingerprint(config.token.exposedValue),
            policy: config.options.rate.withMaxBlock(max(config.options.maxRetryAfter, config.options.throttleBlock)))
    }

    /// The running totals.
    public var counters: NocoDBCounters { countersState.withLock { $0 } }

    /// Table ids are sent in URL paths: letters, digits, `_` and `-` only.
    public static func isValidTableID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128
            && id.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
            }
    }
}
