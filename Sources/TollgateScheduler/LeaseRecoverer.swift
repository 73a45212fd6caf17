import Logging
import ServiceLifecycle
import Synchronization
import TollgateCoordination
import TollgateJobs

/// Leader-only duty: returns jobs whose lease lapsed (their dispatcher died or froze) to due.
///
/// It runs only while this instance leads (``Leadership/whileLeading(_:)``) and sleeps until the
/// earliest lease expires (at most `maxInterval`), so a crashed instance's jobs come back within
/// about one lease. Recovery is atomic and safe even if two instances briefly both believe they
/// lead (a zombie leader's pass changes nothing a second pass would not).
public final class LeaseRecoverer: Service, Sendable {
    private let store: JobStore
    private let leadership: any Leadership
    private let maxInterval: Duration
    private let logger: Logger
    public let recovered = Atomic<Int>(0)
    public let deadLettered = Atomic<Int>(0)
    public let passes = Atomic<Int>(0)

    public init(store: JobStore, leadership: any Leadership, maxInterval: Duration = .seconds(5), logger: Logger) {
        self.store = store
        self.leadership = leadership
        self.maxInterval = maxInterval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.leadership.whileLeading { term in
                self.logger.info("lease recovery running", metadata: ["term": "\(term)"])
                await self.recoverWhileLeading(term)
            }
        }
    }

    private func recoverWhileLeading(_ term: LeaderTerm) async {
        let limit = 1000
        while !Task.isCancelled, leadership.currentTerm == term {
            var wait = maxInterval
            do {
                let pass = try await store.recoverExpiredLeases(limit: limit)
                passes.add(1, ordering: .relaxed)
                recovered.add(pass.recovered, ordering: .relaxed)
                deadLettered.add(pass.deadLettered, ordering: .relaxed)
                if pass.recovered + pass.deadLettered > 0 {
                    logger.notice(
                        "recovered lapsed leases",
                        metadata: ["recovered": "\(pass.recovered)", "dead_lettered": "\(pass.deadLettered)"])
                }
                if pass.recovered + pass.deadLettered >= limit { continue }
                if let next = pass.nextExpiryMs {
                    wait = min(wait, .milliseconds(max(5, next - pass.serverNowMs + 5)))
                }
            } catch {
                logger.warning("lease recovery failed", metadata: ["error": "\(error)"])
                wait = min(wait, .seconds(1))
            }
            try? await Task.sleep(for: wait)
        }
    }
}
