/// Every benchmark `tollgate bench` knows, in the order `tollgate bench` (without a name) runs them.
public enum BenchmarkRegistry {
    public static let all: [any Benchmark.Type] = [
        IPCBenchmark.self,
        SchedulerBenchmark.self,
        PollingBenchmark.self,
        GatewayBenchmark.self,
        BroadcastBenchmark.self,
    ]

    public static func named(_ name: String) -> (any Benchmark.Type)? {
        all.first { $0.name == name }
    }
}
