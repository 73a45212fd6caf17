import TollgateIPC

/// `tollgate bench ipc`: IPC round trips and pipelined throughput through a service socket,
/// next to a plain Unix-socket echo measured in the same run. (Filled in with the foundation.)
struct IPCBenchmark: Benchmark {
    static let name = "ipc"
    static let summary = "IPC round-trip p50/p99 and pipelined messages/s vs a plain Unix-socket echo"

    func run(_ options: BenchOptions, _ output: BenchOutput) async throws -> [String: JSONValue] {
        throw BenchError("the ipc benchmark is not built yet")
    }
}

/// A benchmark failed to run.
public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
