import Logging
import ServiceLifecycle
import Synchronization
import TollgateHTTPServer

/// A NocoDB REST API v2 simulator for the sandbox, the tests and the benchmarks, faithful to the
/// wire facts (shared/FACTS.md): the record endpoints, `where` with nested `~and`/`~or`/`~not` and
/// `exactDate`, `pageInfo`, limit 25 by default and clamped to 100, system fields `Id`/`CreatedAt`/
/// `UpdatedAt`, both error body shapes, and the cloud limiter (5 requests per fixed second per token,
/// 429 with `Retry-After`, then the token blocked for 30 s) — every limit configurable.
///
/// Control: an in-process API (``insert(table:rows:)``, ``markPaid(table:id:field:)``,
/// ``inject(_:)``, ``stats()``) and the same over HTTP under `/_sim/` (see Protocols-free doc in
/// `SimNocoDBCommand`/README): control requests are never rate limited nor counted.
///
/// ```swift
/// let sim = NocoDBSimulator(configuration: .init(), logger: logger)
/// // run it in a ServiceGroup, then:
/// let url = try await sim.baseURL()
/// ```
public final class NocoDBSimulator: Service, Sendable {
    /// A table the simulator serves.
    public struct TableSpec: Sendable, Codable, Equatable {
        public var id: String
        /// Whether rows carry `CreatedAt`/`UpdatedAt`.
        public var systemDates: Bool
        /// Columns that exist before any row names them (a `where` on an unknown column is a 422).
        public var columns: [String]

        public init(id: String, systemDates: Bool = true, columns: [String] = ["TelegramId", "Paid"]) {
            self.id = id
            self.systemDates = systemDates
            self.columns = columns
        }

        enum CodingKeys: String, CodingKey {
            case id, columns
            case systemDates = "system_dates"
        }
    }

    /// The simulator's behaviour.
    public struct Configuration: Sendable {
        /// Accepted API tokens (`xc-token` or `Authorization: Bearer`).
        public var tokens: [String] = ["123456:TEST-nocodb-token"]
        public var tables: [TableSpec] = [TableSpec(id: "users")]
        /// Rows per page when `limit` is absent.
        public var defaultLimit = 25
        /// The largest page (cloud: 100; self-hosted: 1000); larger limits are clamped silently.
        public var maxLimit = 100
        /// The most records one bulk create/update may carry (422 beyond).
        public var maxBulk = 100
        public var rateLimitEnabled = true
        /// Requests per window per token.
        public var rateLimit = 5
        public var rateWindow: Duration = .seconds(1)
        /// How long a token stays blocked after going over the limit.
        public var blockDuration: Duration = .seconds(30)
        /// Whether the first 429's `Retry-After` announces the whole block (else only the window's rest).
        public var retryAfterCoversBlock = false
        /// Answer 404s in the older `{"msg": ...}` shape.
        public var legacyErrorShape = false
        /// Time every API reply takes at least (a remote server's latency).
        public var latency: Duration = .zero

        public init() {}
    }

    /// A failure to inject into the next API requests, in order.
    public enum Fault: Sendable, Equatable {
        /// Answer `count` requests with HTTP `status` (500, 502, 503 ...).
        case status(Int, count: Int)
        /// Hold `count` replies back for `delay` (past the client's timeout: a timeout).
        case delay(Duration, count: Int)
        /// Answer `count` requests 429 and block their token, as if it had gone over the limit.
        case throttle(count: Int)
    }

    struct State: Sendable {
        var tables: [String: SimNocoDBTable] = [:]
        var throttle: SimNocoDBThrottle
        var recorder = SimNocoDBRecorder()
        var faults: [Fault] = []
    }

    public let configuration: Configuration
    let server: HTTPServer
    let state: Mutex<State>
    let hostile = SimHostile()
    let logger: Logger

    /// - Parameter port: 0 picks a free one (read it back with ``baseURL()``).
    public init(configuration: Configuration = Configuration(), host: String = "127.0.0.1", port: Int = 0, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        var initial = State(
            throttle: SimNocoDBThrottle(
                enabled: configuration.rateLimitEnabled, limit: configuration.rateLimit,
                windowMs: max(1, Self.ms(configuration.rateWindow)), blockMs: Self.ms(configuration.blockDuration),
                retryAfterCoversBlock: configuration.retryAfterCoversBlock))
        for spec in configuration.tables {
            initial.tables[spec.id] = SimNocoDBTable(name: spec.id, systemDates: spec.systemDates, columns: spec.columns)
        }
        self.state = Mutex(initial)
        let box = HandlerBox()
        self.server = HTTPServer(name: "nocodb-sim", target: .tcp(host: host, port: port), logger: logger) { request in
            await box.simulator?.handle(request) ?? .empty(status: 503)
        }
        box.simulator = self
    }

    /// Serves until cancelled or shut down gracefully.
    public func run() async throws {
        try await server.run()
    }

    /// `http://host:port` once listening.
    public func baseURL() async throws -> String {
        switch try await server.listeningAddress() {
        case .tcp(let host, let port): "http://\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }

    // MARK: In-process control

    /// Adds (or replaces) a table.
    public func createTable(_ spec: TableSpec) {
        state.withLock {
            $0.tables[spec.id] = SimNocoDBTable(name: spec.id, systemDates: spec.systemDates, columns: spec.columns)
        }
    }

    /// Inserts rows (their `CreatedAt` and `UpdatedAt` now, or `atMs` for rows that existed
    /// long before); returns their ids.
    public func insert(table: String, rows: [[String: SimNocoDBValue]], atMs: Int64? = nil) throws -> [Int64] {
        let now = atMs ?? SimNocoDBTime.nowMs()
        return try state.withLock { s throws(SimNocoDBFailure) -> [Int64] in
            try Self.modify(&s, table) { t in rows.map { t.insert($0, now: now) } }
        }
    }

    /// Sets `field` of row `id` to `true` (a payment landed) and moves its `UpdatedAt`; returns the
    /// new `UpdatedAt` in Unix ms.
    @discardableResult
    public func markPaid(table: String, id: Int64, field: String = "Paid") throws -> Int64 {
        try update(table: table, id: id, fields: [field: .bool(true)])
    }

    /// Updates fields of a row as a user of NocoDB would; returns its new `UpdatedAt` (Unix ms).
    @discardableResult
    public func update(table: String, id: Int64, fields: [String: SimNocoDBValue]) throws -> Int64 {
        let now = SimNocoDBTime.nowMs()
        return try state.withLock { s throws(SimNocoDBFailure) -> Int64 in
            try Self.modify(&s, table) { t throws(SimNocoDBFailure) in
                try t.update(id, fields, now: now)
                return t.rows[id]!.updatedMs
            }
        }
    }

    /// A row as the API would show it, or nil.
    public func row(table: String, id: Int64) -> [String: SimNocoDBValue]? {
        state.withLock { s in
            guard let t = s.tables[table], let row = t.rows[id] else { return nil }
            return t.rendered(row, fields: nil)
        }
    }

    /// How many rows `table` holds.
    public func rowCount(table: String) -> Int {
        state.withLock { $0.tables[table]?.rows.count ?? 0 }
    }

    /// Queues a failure for the next API requests.
    public func inject(_ fault: Fault) {
        state.withLock { $0.faults.append(fault) }
    }

    /// What the simulator saw so far.
    public func stats() -> NocoDBSimulatorStats {
        state.withLock { $0.recorder.snapshot(windowMs: $0.throttle.windowMs) }
    }

    /// Forgets the counters (not the rows, not a block in force).
    public func resetStats() {
        state.withLock { $0.recorder = SimNocoDBRecorder() }
    }

    /// The end of `token`'s block (Unix ms) if it is blocked now.
    public func blockedUntil(token: String) -> Int64? {
        let now = SimNocoDBTime.nowMs()
        return state.withLock { $0.throttle.blockedUntil(token: token, nowMs: now) }
    }

    /// Runs `body` on a table in place (a copy of a 100,000-row table per request would make
    /// every operation linear in the table's size).
    static func modify<T>(
        _ s: inout State, _ table: String, _ body: (inout SimNocoDBTable) throws(SimNocoDBFailure) -> T
    ) throws(SimNocoDBFailure) -> T {
        guard s.tables[table] != nil else { throw .tableNotFound(table) }
        return try body(&s.tables[table]!)
    }

    static func ms(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        return s * 1000 + atto / 1_000_000_000_000_000
    }
}

/// Lets the server's handler reach the simulator that owns the server.
private final class HandlerBox: @unchecked Sendable {
    // Written once in init before the server can run; read-only afterwards.
    weak var simulator: NocoDBSimulator?
}
