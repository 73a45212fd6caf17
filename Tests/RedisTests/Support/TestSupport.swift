import Logging
import Synchronization
import TollgateCore
import TollgateTestKit

@testable import TollgateRedis

#if canImport(Glibc)
    import Glibc
#endif

/// Log lines recorded by a test, to check what was logged (and that no password was).
final class LogRecorder: Sendable {
    private let lines = Mutex<[(level: Logger.Level, text: String)]>([])

    var logger: Logger {
        Logger(label: "redis-test") { _ in RecordingHandler(recorder: self) }
    }

    func append(_ level: Logger.Level, _ text: String) { lines.withLock { $0.append((level, text)) } }

    var all: [String] { lines.withLock { $0.map(\.text) } }

    func count(level: Logger.Level, containing fragment: String) -> Int {
        lines.withLock { $0.filter { $0.level == level && $0.text.contains(fragment) }.count }
    }

    private struct RecordingHandler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            if let extra = event.metadata { merged.merge(extra) { _, new in new } }
            let fields = merged.keys.sorted().map { "\($0)=\(merged[$0]!)" }.joined(separator: " ")
            recorder.append(event.level, "\(event.message) \(fields)")
        }
    }
}

enum TestRedis {
    /// Starts a private redis-server, retrying on a fresh port if the free port it picked was taken
    /// in between (parallel tests open many loopback connections from the same port range).
    static func server(password: String? = nil, unixSocket: Bool = false) throws -> RedisServer {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try RedisServer(password: password, unixSocket: unixSocket)
            } catch RedisServer.Failure.didNotStart(let log) where attempt < 3 && log.contains("Address already in use") {
                continue
            }
        }
    }

    static func url(_ server: RedisServer, database: Int = 0, password: String? = nil) -> RedisURL {
        RedisURL(endpoint: .tcp(host: "127.0.0.1", port: server.port), password: password, database: database)
    }

    static func client(
        _ server: RedisServer, name: String = "test", database: Int = 0, commandTimeout: Duration = .seconds(5),
        connectTimeout: Duration = .seconds(2), logs: LogRecorder = LogRecorder()
    ) -> RedisClient {
        RedisClient(
            url: url(server, database: database), name: name, connectTimeout: connectTimeout,
            commandTimeout: commandTimeout, logger: logs.logger)
    }

    /// Calls `body` every 50 ms until it succeeds or `timeout` passes; returns the last result.
    static func eventually<T: Sendable>(
        timeout: Duration, _ body: () async throws(RedisError) -> T
    ) async -> Result<T, RedisError> {
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                return .success(try await body())
            } catch {
                if ContinuousClock.now >= deadline { return .failure(error) }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }
}

/// Runs `body` and keeps its outcome, error included.
func capture<T>(_ body: () async throws(RedisError) -> T) async -> Result<T, RedisError> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}

/// Times a block with the continuous clock.
func measure<T>(_ body: () async throws -> T) async rethrows -> (T, Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let value = try await body()
    return (value, clock.now - start)
}

/// A loopback TCP port that accepts nothing: its accept queue is full, so new connects hang until
/// the client's connect timeout (the kernel drops their SYNs). Used to show that clients fail fast
/// during backoff instead of waiting out a connect timeout on every call.
final class BlackholeListener {
    let port: Int
    private let listener: Int32
    private let filler: Int32

    init() {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(listener, raw, length) == 0 && getsockname(listener, raw, &length) == 0
            }
        }
        precondition(bound && listen(listener, 0) == 0, "cannot set up the blackhole listener")
        port = Int(UInt16(bigEndian: address.sin_port))
        // One connection fills a backlog of 0; it is never accepted.
        let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        self.filler = filler
        precondition(connected, "cannot fill the blackhole listener's backlog")
    }

    deinit {
        close(filler)
        close(listener)
    }
}

/// Collects subscriber events from a background consumer, for polling with a deadline.
final class EventCollector: Sendable {
    private let events = Mutex<[RedisSubscriber.Event]>([])

    func append(_ event: RedisSubscriber.Event) { events.withLock { $0.append(event) } }

    var all: [RedisSubscriber.Event] { events.withLock { $0 } }

    var payloads: [[UInt8]] {
        all.compactMap { event in
            if case .message(_, let payload) = event { return payload }
            return nil
        }
    }

    var reconnects: Int { all.filter { $0 == .reconnected }.count }

    /// Polls every 20 ms until `condition` holds or `timeout` passes.
    func wait(timeout: Duration, until condition: ([RedisSubscriber.Event]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(all) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(all)
    }
}
