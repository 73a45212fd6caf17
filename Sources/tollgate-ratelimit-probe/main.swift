// tollgate-ratelimit-probe: a test-only process for CoordinationTests.
//
//   tollgate-ratelimit-probe REDIS_URL PREFIX RESOURCE INTERVAL_US BURST COUNT
//
// Takes COUNT slots of RESOURCE from the shared RedisRateLimiter and prints one line per grant:
// `grant <granted-at µs, Redis clock> <waited µs>`, then `done`. Exit status 0 on success,
// 2 on bad arguments, 1 on a limiter error.
import Logging
import TollgateCoordination
import TollgateCore
import TollgateRedis

#if canImport(Glibc)
    import Glibc
#endif

/// One unbuffered line on stdout (the test reads the file while the probe may still run).
func emit(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBufferPointer { write(1, $0.baseAddress, $0.count) }
}

let arguments = CommandLine.arguments
guard arguments.count == 7, let interval = Int64(arguments[4]), let burst = Int(arguments[5]),
    let count = Int(arguments[6]), interval > 0, burst >= 1, count >= 0
else {
    emit("usage: tollgate-ratelimit-probe REDIS_URL PREFIX RESOURCE INTERVAL_US BURST COUNT")
    exit(2)
}
let logger = Logger(label: "probe") { _ in SwiftLogNoOpLogHandler() }
let url: RedisURL
do {
    url = try RedisURL(arguments[1])
} catch {
    emit("error \(error)")
    exit(2)
}
let client = RedisClient(url: url, name: "probe", logger: logger)
let limiter = RedisRateLimiter(client: client, keys: KeySpace(prefix: arguments[2]), logger: logger)
let resource = RateLimitedResource(
    name: arguments[3], policy: RateLimitPolicy(emissionInterval: .microseconds(interval), burst: burst))
emit("ready")
do {
    for _ in 0..<count {
        let grant = try await limiter.acquire(resource)
        emit("grant \(grant.grantedAtMicros) \(grant.waited.microseconds)")
    }
} catch {
    emit("error \(error)")
    exit(1)
}
emit("done")
await client.close()
