import Foundation
import Logging
import TollgateIPC
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

/// `tollgate bench ipc`: IPC round trips and pipelined throughput through a real service socket
/// (a poller-scheduler process), next to a plain Unix-socket echo (its own process, blocking
/// syscalls, no parsing) measured in the same run with frames of the same size.
struct IPCBenchmark: Benchmark {
    static let name = "ipc"
    static let summary = "IPC round-trip p50/p99 and pipelined messages/s vs a plain Unix-socket echo"

    func run(_ options: BenchOptions, _ output: BenchOutput) async throws -> [String: JSONValue] {
        let roundTrips = options.quick ? 2_000 : 20_000
        let pipelined = options.quick ? 20_000 : 200_000
        let depth = 128
        setenv("TOLLGATE_BIN_DIR", options.binariesDirectory, 1)

        let redis = try RedisServer()
        defer { redis.stop() }
        let dir = TestNetwork.temporaryDirectory(prefix: "bench-ipc")
        let env = ServiceProcess.environment(redisURL: redis.url, directory: dir, extra: ["LOG_LEVEL": "warning"])
        let service = try ServiceProcess("poller-scheduler", environment: env, logPath: dir + "/poller.log")
        try await service.waitUntilReady()
        var quiet = Logger(label: "bench-ipc")
        quiet.logLevel = .critical
        let hello = Hello(service: "tollgate-bench", instance: "bench")
        let frame = try IPCCoding.frame(IPCRequestEnvelope(id: "bench-1", type: Hello.type, body: hello))

        // 1. IPC round trips, one at a time.
        let client = IPCClient(path: service.socketPath, logger: quiet)
        for _ in 0..<500 { _ = try await client.call(hello) }
        var rtts: [Double] = []
        rtts.reserveCapacity(roundTrips)
        for _ in 0..<roundTrips {
            let start = ContinuousClock.now
            _ = try await client.call(hello)
            rtts.append((ContinuousClock.now - start).seconds * 1e6)
        }
        let ipcRTT = Percentiles(rtts)
        output.line(String(format: "ipc round trip (hello, %d calls): p50 %.1f µs, p99 %.1f µs", roundTrips, ipcRTT.p50, ipcRTT.p99))

        // 2. IPC pipelined: `depth` requests in flight on one connection.
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<depth {
                group.addTask {
                    for _ in 0..<(pipelined / depth) { _ = try await client.call(hello, timeout: .seconds(30)) }
                }
            }
            try await group.waitForAll()
        }
        let ipcRate = Double(pipelined / depth * depth) / (ContinuousClock.now - started).seconds
        output.line(String(format: "ipc pipelined (%d in flight, %d messages): %.0f messages/s", depth, pipelined, ipcRate))
        await client.close()
        let serviceRSS = ProcessStats.peakRSSKiB(pid: service.pid)
        await service.stop()

        // 3. The baseline: a plain echo of the same frames.
        let echoPath = dir + "/echo.sock"
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let echo = try ChildProcess(me, ["bench-echo-server", "--socket", echoPath], output: dir + "/echo.log")
        defer { echo.kill9() }
        guard await offPool({ TestNetwork.waitUntil(timeout: .seconds(10)) { access(echoPath, F_OK) == 0 } }) else {
            throw BenchError("the echo server did not start")
        }
        let (echoRTT, echoRate) = try await offPool { () throws -> (Percentiles, Double) in
            let socket = try RawUnixSocket(path: echoPath)
            for _ in 0..<500 {
                socket.write(frame)
                _ = socket.readFrame()
            }
            var samples: [Double] = []
            samples.reserveCapacity(roundTrips)
            for _ in 0..<roundTrips {
                let start = ContinuousClock.now
                socket.write(frame)
                guard socket.readFrame() != nil else { throw BenchError("echo server closed") }
                samples.append((ContinuousClock.now - start).seconds * 1e6)
            }
            // Pipelined: keep `depth` frames in flight.
            let began = ContinuousClock.now
            for _ in 0..<depth { socket.write(frame) }
            for i in 0..<pipelined {
                guard socket.readFrame() != nil else { throw BenchError("echo server closed") }
                if i + depth < pipelined { socket.write(frame) }
            }
            return (Percentiles(samples), Double(pipelined) / (ContinuousClock.now - began).seconds)
        }
        output.line(String(format: "echo round trip: p50 %.1f µs, p99 %.1f µs; pipelined %.0f messages/s", echoRTT.p50, echoRTT.p99, echoRate))
        let ratioRTT = ipcRTT.p50 / echoRTT.p50
        let ratioRate = ipcRate / echoRate
        output.line(String(format: "ratio ipc/echo: round trip p50 ×%.1f, throughput %.2f", ratioRTT, ratioRate))

        let codec = Self.codecFigures(iterations: options.quick ? 200 : 2000)
        output.line(
            String(
                format: "codec, deliver batch of 100 (%d bytes): encode %.0f µs, decode %.0f µs; reply encode %.0f µs, decode %.0f µs",
                Int(codec.bytes), codec.encode, codec.decode, codec.replyEncode, codec.replyDecode))

        return [
            "codec_deliver100_bytes": .number(codec.bytes),
            "codec_deliver100_encode_us": .number(codec.encode.rounded()),
            "codec_deliver100_decode_us": .number(codec.decode.rounded()),
            "codec_deliver100_reply_encode_us": .number(codec.replyEncode.rounded()),
            "codec_deliver100_reply_decode_us": .number(codec.replyDecode.rounded()),
            "service": .string("poller-scheduler"),
            "message_bytes": .number(Double(frame.count)),
            "pipeline_depth": .number(Double(depth)),
            "ipc_round_trip_us": ipcRTT.json(),
            "ipc_pipelined_msgs_per_s": .number(ipcRate.rounded()),
            "echo_round_trip_us": echoRTT.json(),
            "echo_pipelined_msgs_per_s": .number(echoRate.rounded()),
            "ratio_round_trip_p50": .number((ratioRTT * 100).rounded() / 100),
            "ratio_throughput": .number((ratioRate * 1000).rounded() / 1000),
            "service_peak_rss_mib": .number(((Double(serviceRSS ?? 0) / 1024) * 10).rounded() / 10),
        ]
    }
}

extension IPCBenchmark {
    /// Median cost of encoding and decoding a 100-delivery `deliver` frame and its reply.
    static func codecFigures(iterations: Int) -> (bytes: Double, encode: Double, decode: Double, replyEncode: Double, replyDecode: Double) {
        var deliveries: [Delivery] = []
        for i in 0..<100 {
            let user = Int64(100_000 + i)
            let due: Int64 = 1_795_000_000_000 + Int64(i)
            deliveries.append(
                Delivery(
                    jobID: "reminder:\(user):1", epoch: 42, kind: "reminder", userID: user, chatID: user, attempt: 1,
                    dueAtMs: due, payload: ["step": .string("reminder")]))
        }
        let request = IPCRequestEnvelope(id: "bench-7", type: Deliver.type, body: Deliver(deliveries: deliveries))
        let reply = IPCOkEnvelope(
            id: "bench-7", body: Deliver.Reply(results: deliveries.map { DeliveryResult(jobID: $0.jobID, outcome: .delivered) }))
        func median(_ body: () throws -> Void) -> Double {
            var samples: [Double] = []
            for _ in 0..<iterations {
                let start = ContinuousClock.now
                try? body()
                samples.append((ContinuousClock.now - start).seconds * 1e6)
            }
            return Percentiles(samples).p50
        }
        let requestBytes = (try? IPCCoding.encode(request)) ?? []
        let replyBytes = (try? IPCCoding.encode(reply)) ?? []
        return (
            Double(requestBytes.count),
            median { _ = try IPCCoding.encode(request) },
            median { _ = try IPCCoding.decode(IPCRequestEnvelope<Deliver>.self, from: requestBytes) },
            median { _ = try IPCCoding.encode(reply) },
            median { _ = try IPCCoding.decode(IPCOkEnvelope<Deliver.Reply>.self, from: replyBytes) }
        )
    }
}

/// Figures read from /proc.
public enum ProcessStats {
    /// Peak resident set size (VmHWM) of `pid` in KiB, or nil when unreadable.
    public static func peakRSSKiB(pid: Int32) -> Int? {
        field("VmHWM", pid: pid)
    }

    /// Current resident set size (VmRSS) of `pid` in KiB.
    public static func rssKiB(pid: Int32) -> Int? {
        field("VmRSS", pid: pid)
    }

    static func field(_ name: String, pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }
}

/// A benchmark failed to run.
public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
