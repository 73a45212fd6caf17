import Logging
import Synchronization

/// A fixed set of ``RedisClient``s (one connection and one thread each), handed out round-robin.
///
/// A client runs one command at a time; a pool lets up to `size` commands (including blocking
/// ones) run at once. Blocking commands that wait long are better given a client of their own.
public final class RedisClientPool: Sendable {
    /// The clients, named `<name>-0`, `<name>-1`, ...
    public let clients: [RedisClient]
    private let counter = Atomic<Int>(0)

    /// Creates `size` clients (at least one); none connects until used.
    public init(
        url: RedisURL, name: String, size: Int, connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5), logger: Logger
    ) {
        precondition(size >= 1, "a pool needs at least one client")
        clients = (0..<size).map { index in
            RedisClient(
                url: url, name: "\(name)-\(index)", connectTimeout: connectTimeout, commandTimeout: commandTimeout,
                logger: logger)
        }
    }

    /// The next client, round-robin.
    public func next() -> RedisClient {
        let ticket = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return clients[Int(UInt(bitPattern: ticket) % UInt(clients.count))]
    }

    /// Closes every client.
    public func close() async {
        await withTaskGroup(of: Void.self) { group in
            for client in clients { group.addTask { await client.close() } }
        }
    }
}
