import Logging
import ServiceLifecycle
import TollgateCoordination
import TollgateCore
import TollgateNocoDB
import TollgateRedis

/// The payment polling loop: runs on the leader only, checks the watch list against NocoDB in
/// batch or delta mode, and carries out confirmations and expiries.
///
/// Every request goes through the NocoDB client and so through the cluster-wide limiter: after a
/// restart with a long overdue watch list the loop simply asks for batch after batch and the
/// limiter paces them (no burst, no stagger needed). All steps are idempotent, so losing
/// leadership (the term's task is cancelled) or crashing at any point repeats nothing visibly.
public final class PaymentPoller: Service, Sendable {
    let store: PaymentWatchStore
    let nocodb: NocoDBClient
    let outcomes: any PaymentOutcomes
    let leadership: any Leadership
    let config: PaymentsConfig
    public let stats: PaymentsStats
    let beat: @Sendable () async -> Void
    let logger: Logger
    let faultLog = LogThrottle(interval: .seconds(30))

    /// - Parameters:
    ///   - store: on a Redis client of the loop's own.
    ///   - beat: called every loop iteration (the service's liveness heartbeat).
    public init(
        store: PaymentWatchStore, nocodb: NocoDBClient, outcomes: any PaymentOutcomes, leadership: any Leadership,
        config: PaymentsConfig, stats: PaymentsStats = PaymentsStats(), beat: @escaping @Sendable () async -> Void = {},
        logger: Logger
    ) {
        self.store = store
        self.nocodb = nocodb
        self.outcomes = outcomes
        self.leadership = leadership
        self.config = config
        self.stats = stats
        self.beat = beat
        var logger = logger
        logger[metadataKey: "component"] = "payments"
        self.logger = logger
        stats.update { $0.mode = config.mode.rawValue }
    }

    /// Runs until cancelled or shut down gracefully: polls while this instance leads.
    public func run() async throws {
        // Waits inside the NocoDB client (a 429 block of minutes, page after page of a long walk)
        // beat this loop's heartbeat: the loop is waiting as told, not wedged.
        await SlicedSleep.withProgress(beat) {
            await cancelWhenGracefulShutdown {
                await self.loop()
            }
        }
    }

    func loop() async {
        while !Task.isCancelled {
            await beat()
            guard let term = leadership.currentTerm else {
                stats.update { $0.leading = false }
                await Self.race(
                    { [leadership] in await leadership.waitForChange(from: nil) },
                    { try? await Task.sleep(for: .seconds(1)) })
                continue
            }
            logger.info("payment polling starts on this leader", metadata: ["term": "\(term)"])
            stats.update { $0.leading = true }
            await Self.race(
                { await self.lead(term) },
                { [leadership] in await leadership.waitForChange(from: term) })
            stats.update { $0.leading = false }
            logger.info("payment polling stops: leadership changed", metadata: ["term": "\(term)"])
        }
    }

    /// Runs both, returns when the first returns, cancelling the other.
    static func race(_ a: @escaping @Sendable () async -> Void, _ b: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask(operation: a)
            group.addTask(operation: b)
            await group.next()
            group.cancelAll()
        }
    }

    /// One term's work.
    func lead(_ term: LeaderTerm) async {
        var mode = config.mode
        var backoff = Backoff(base: .milliseconds(500), cap: config.errorBackoffCap, jitter: .equal)
        let clock = ContinuousClock()
        var nextDelta = clock.now
        while !Task.isCancelled {
            await beat()
            do {
                if mode == .delta, clock.now >= nextDelta {
                    if try await deltaCycle() == .noUpdatedAt {
                        mode = .batch
                        stats.update { $0.mode = "batch (table has no UpdatedAt)" }
                        logger.warning("the table has no UpdatedAt field: falling back to batch mode")
                    }
                    nextDelta = clock.now + config.deltaInterval
                }
                let round = try await batchRound(mode: mode, until: mode == .delta ? nextDelta : nil)
                backoff.reset()
                if round.worked { continue }
                var wait = config.idleWait
                if let next = round.nextDueMs { wait = min(wait, .milliseconds(max(0, next - round.nowMs))) }
                if mode == .delta { wait = min(wait, max(.zero, nextDelta - clock.now)) }
                if wait > .zero { try await Task.sleep(for: wait) }
            } catch is CancellationError {
                return
            } catch let error as NocoDBError where error.code == .cancelled {
                return
            } catch {
                if Task.isCancelled { return }
                stats.update { $0.errors += 1 }
                let pause = backoff.next()
                let kind = (error as? NocoDBError)?.code.rawValue ?? "\(type(of: error))"
                if let held = faultLog.admit(kind) {
                    logger.warning(
                        "payment polling round failed; retrying",
                        metadata: ["error": "\(error)", "retry_in_ms": "\(pause.milliseconds)", "suppressed": "\(held)"])
                }
                try? await Task.sleep(for: pause)
            }
        }
    }
}
