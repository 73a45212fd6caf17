import TollgateCore
import TollgateNocoDB

/// Payment watching's settings (environment variables; see also ``NocoDBConfig``).
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `PAYMENTS_MODE` | `delta` | `delta`: one request per cycle for rows changed since a cursor; `batch`: `(Id,in,...)` batches |
/// | `PAYMENTS_DELTA_INTERVAL` | `3s` | delta cycle period |
/// | `PAYMENTS_DELTA_OVERLAP` | `5s` | how far before the cursor each delta cycle reads again |
/// | `PAYMENTS_SWEEP_INTERVAL` | `15m` | delta mode: each watch is also checked by batch this often (safety net) |
/// | `PAYMENTS_CADENCE` | `2m:5s,15m:15s,2h:1m,24h:5m,*:15m` | batch mode: check interval by watch age |
/// | `PAYMENTS_FIRST_CHECK` | `3s` | a new watch's first check (by batch, in both modes) |
/// | `PAYMENTS_WATCH_EXPIRY` | `48h` | default watch lifetime |
/// | `PAYMENTS_BATCH_SIZE` | `NOCODB_PAGE_LIMIT` | ids per batch request |
/// | `PAYMENTS_CONCURRENCY` | `1` | batch requests in flight at once; the limiter still spaces them, but with 2 a request already sent when a 429 arrives lands inside the block |
public struct PaymentsConfig: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        case delta, batch
    }

    public var nocodb: NocoDBConfig
    public var mode: Mode = .delta
    public var deltaInterval: Duration = .seconds(3)
    public var deltaOverlap: Duration = .seconds(5)
    public var sweepInterval: Duration = .seconds(15 * 60)
    public var cadence: PaymentCadence = .default
    public var firstCheckDelay: Duration = .seconds(3)
    public var defaultExpiry: Duration = .seconds(48 * 3600)
    public var batchSize: Int
    /// Batch requests in flight at once (see the table above).
    public var requestConcurrency = 1
    /// Batches per round before the due set is read again.
    public var batchesPerRound = 10
    /// The longest the loop sleeps before looking at the due set again.
    public var idleWait: Duration = .seconds(1)
    /// Pause after a failed round, growing to this cap.
    public var errorBackoffCap: Duration = .seconds(30)

    public init(nocodb: NocoDBConfig) {
        self.nocodb = nocodb
        self.batchSize = nocodb.options.pageLimit
    }

    /// Reads the NocoDB variables and the ones above; problems are collected in `reader`.
    public static func read(_ reader: inout ConfigReader) -> PaymentsConfig {
        var config = PaymentsConfig(nocodb: NocoDBConfig.read(&reader))
        config.mode = Mode(rawValue: reader.choice("PAYMENTS_MODE", default: "delta", allowed: Mode.allCases.map(\.rawValue))) ?? .delta
        config.deltaInterval = reader.duration("PAYMENTS_DELTA_INTERVAL", default: .seconds(3), min: .milliseconds(100))
        config.deltaOverlap = reader.duration("PAYMENTS_DELTA_OVERLAP", default: .seconds(5), min: .seconds(1))
        config.sweepInterval = reader.duration("PAYMENTS_SWEEP_INTERVAL", default: .seconds(900), min: .seconds(1))
        let cadenceText = reader.string("PAYMENTS_CADENCE", default: PaymentCadence.default.description)
        if let cadence = PaymentCadence.parse(cadenceText) {
            config.cadence = cadence
        } else {
            reader.problem("PAYMENTS_CADENCE", "expected tiers like 2m:5s,15m:15s,*:15m (ages increasing, '*' last)")
        }
        config.firstCheckDelay = reader.duration("PAYMENTS_FIRST_CHECK", default: .seconds(3))
        config.defaultExpiry = reader.duration("PAYMENTS_WATCH_EXPIRY", default: .seconds(48 * 3600), min: .seconds(1))
        config.batchSize = reader.int(
            "PAYMENTS_BATCH_SIZE", default: config.nocodb.options.pageLimit, range: 1...config.nocodb.options.pageLimit)
        config.requestConcurrency = reader.int("PAYMENTS_CONCURRENCY", default: 1, range: 1...8)
        return config
    }
}
