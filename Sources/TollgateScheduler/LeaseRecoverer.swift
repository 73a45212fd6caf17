import Logging
import ServiceLifecycle
import Synchronization
import TollgateCoordination
import TollgateCore
import TollgateJobs

/// Leader-only duty: returns jobs whose lease lapsed (their dispatcher died or froze) to due, and
/// removes dead letters older than `DEAD_LETTER_RETENTION` (about once a minute).
///
/// It runs only while this instance leads (``Leadership/whileLeading(_:)``) and sleeps until the
/// earliest lease expires (at most `maxInterval`), so a crashed instance's jobs come back within
/// about one lease. Recovery is atomic and safe even if two instances briefly both believe they
/// lead (a zombie leader's pass changes nothing a second pass would not).
public final class LeaseRecoverer: Service, Sendable {
    private let store: JobStore
    private let leadership: any Leadership
    private let maxInterval: Duration
    private let deadLetterRetention: Duration
    private let logger: Logger
    public let recovered = Atomic<Int>(0)
    public let deadLettered = Atomic<Int>(0)
    public let passes = Atomic<Int>(0)
    public let deadLettersTrimmed = Atomic<Int>(0)

    public init(
        store: JobStore, leadership: any Leadership, maxInterval: Duration = .seconds(5),
        deadLetterRetention: Duration = .seconds(30 * 86400), logger: Logger
    ) {
        self.store = store
        self.leadership = leadership
        self.maxInterval = maxInterval
        self.deadLetterRetention = deadLetterRetention
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
        let clock = ContinuousClock()
        var nextTrim = clock.now
        while !Task.isCancelled, leadership.currentTerm == term {
            var wait = maxInterval
            do {
                if clock.now >= nextTrim {
                    let trimmed = try await store.trimDeadLetters(maxAge: deadLetterRetention)
                    deadLettersTrimmed.add(trimmed, ordering: .relaxed)
                    nextTrim = clock.now + (trimmed >= 1000 ? .zero : .seconds(60))
                }
                let pass = try await store.recoverExpiredLeases(limit: limit)
                // Counts from a script reply: brought into range before any arithmetic.
                let recoveredNow = min(max(0, pass.recovered), limit)
                let deadNow = min(max(0, pass.deadLettered), limit)
                passes.add(1, ordering: .relaxed)
                recovered.wrappingAdd(recoveredNow, ordering: .relaxed)
                deadLettered.wrappingAdd(deadNow, ordering: .relaxed)
                if recoveredNow + deadNow > 0 {
                    logger.notice(
                        "recovered lapsed leases",
                        metadata: ["recovered": "\(pass.recovered)", "dead_lettered": "\(pass.deadLettered)"])
                }
                if recoveredNow + deadNow >= limit { continue }
                if let next = pass.nextExpiryMs {
                    wait = min(wait, .milliseconds(max(5, next.saturatingMinus(pass.serverNowMs).saturatingPlus(5))))
                }
            } catch {
                logger.warning("lease recovery failed", metadata: ["error": "\(error)"])
                wait = min(wait, .seconds(1))
            }
            try? await Task.sleep(for: wait)
        }
    }
}
