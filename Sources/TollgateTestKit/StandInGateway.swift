import Logging
import Synchronization
import TollgateCore
import TollgateIPC

/// A stand-in for bot-gateway's `deliver` endpoint on a Unix socket, for tests and benchmarks of
/// poller-scheduler: it records every delivery it receives with the time it arrived, and answers
/// like the real gateway — `delivered` the first time it sees a job id, `duplicate` after that —
/// unless ``answer`` says otherwise.
///
/// ```swift
/// let gateway = StandInGateway(path: dir + "/gateway.sock")
/// try await gateway.start()
/// ... // run pollers with GATEWAY_SOCKET = gateway.path
/// #expect(gateway.deliveredOnce.count == 1000)
/// await gateway.stop()
/// ```
public final class StandInGateway: Sendable {
    /// One delivery as the stand-in saw it.
    public struct Receipt: Sendable, Equatable {
        public var jobID: String
        public var epoch: Int64
        public var attempt: Int
        public var dueAtMs: Int64
        public var receivedAtMs: Int64
        public var outcome: DeliveryResult.Outcome
    }

    /// Decides the answer for a delivery that is not a duplicate (default: `delivered`).
    public typealias Answer = @Sendable (Delivery) -> DeliveryResult

    public let path: String
    private let state = Mutex<(receipts: [Receipt], seen: Set<String>, batches: Int)>(([], [], 0))
    private let answerBox: Mutex<Answer>
    private let delay: Mutex<Duration>
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let server: IPCServer

    public init(path: String, delay: Duration = .zero, answer: @escaping Answer = { .init(jobID: $0.jobID, outcome: .delivered) }) {
        self.path = path
        self.answerBox = Mutex(answer)
        self.delay = Mutex(delay)
        var router = IPCRouter()
        var logger = Logger(label: "stand-in-gateway")
        logger.logLevel = .critical
        let box = Box()
        router.register(Deliver.self) { request, _ in
            guard let gateway = box.gateway else { throw IPCError(.unavailable, "stand-in not ready") }
            return try await gateway.handle(request)
        }
        server = IPCServer(name: "stand-in-gateway", target: .unix(path: path), router: router, logger: logger)
        box.gateway = self
    }

    /// Starts listening; returns once the socket accepts connections.
    public func start() async throws {
        let server = self.server
        task.withLock { $0 = Task { try? await server.run() } }
        _ = try await server.listening()
    }

    /// Stops listening and closes connections (in-flight requests get no answer).
    public func stop() async {
        let running = task.withLock { t -> Task<Void, Never>? in
            defer { t = nil }
            return t
        }
        running?.cancel()
        await running?.value
    }

    /// Changes how fresh deliveries are answered.
    public func setAnswer(_ answer: @escaping Answer) { answerBox.withLock { $0 = answer } }

    /// Changes how long each batch takes to answer.
    public func setDelay(_ value: Duration) { delay.withLock { $0 = value } }

    public var receipts: [Receipt] { state.withLock { $0.receipts } }
    public var batches: Int { state.withLock { $0.batches } }

    /// How many distinct job ids were answered `delivered` (cheap: for polling while load runs).
    public var deliveredTotal: Int { state.withLock { $0.seen.count } }

    /// Job ids answered `delivered`, with how many times each was (1 for a correct poller).
    public var deliveredCounts: [String: Int] {
        state.withLock { s in
            var counts: [String: Int] = [:]
            for r in s.receipts where r.outcome == .delivered { counts[r.jobID, default: 0] += 1 }
            return counts
        }
    }

    private func handle(_ request: Deliver) async throws -> Deliver.Reply {
        let wait = delay.withLock { $0 }
        if wait > .zero { try await Task.sleep(for: wait) }
        let answer = answerBox.withLock { $0 }
        let now = WallClock.epochMilliseconds()
        let results = state.withLock { s -> [DeliveryResult] in
            s.batches += 1
            return request.deliveries.map { d in
                let result: DeliveryResult =
                    s.seen.contains(d.jobID) ? DeliveryResult(jobID: d.jobID, outcome: .duplicate) : answer(d)
                if result.outcome == .delivered { s.seen.insert(d.jobID) }
                s.receipts.append(
                    Receipt(
                        jobID: d.jobID, epoch: d.epoch, attempt: d.attempt, dueAtMs: d.dueAtMs, receivedAtMs: now,
                        outcome: result.outcome))
                return result
            }
        }
        return Deliver.Reply(results: results)
    }

    private final class Box: @unchecked Sendable {
        weak var gateway: StandInGateway?
    }
}
