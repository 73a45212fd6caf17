import Logging
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgateRedis

/// Leader election over a ``LeaderLock``: a `Service` that keeps trying for the lock, renews it
/// while it holds it, and implements ``Leadership`` for leader-only work (`whileLeading`).
///
/// It claims leadership only while it can prove it (``LeaderLockMachine``): once a renewal is
/// refused or its proof runs out on the monotonic clock — the process was frozen, Redis is
/// unreachable — ``currentTerm`` is `nil` at once and waiters are woken, so leader work stops
/// before another instance can take over. On graceful shutdown it releases the lock
/// (compare-and-release), so a successor takes over at once instead of after the TTL.
public final class LeaderElection: Service, Leadership, Sendable {
    /// What the election last saw, for stats and status.
    public struct Snapshot: Sendable, Equatable {
        /// This instance's term while it leads (and can prove it).
        public var term: LeaderTerm?
        /// Who holds the lock, as last seen in Redis (this instance, another, or nobody).
        public var leader: LeaderTerm?
        /// Terms this instance has won since start.
        public var termsWon: Int
        /// Terms this instance lost (renewal refused or proof ran out).
        public var termsLost: Int
    }

    private struct State {
        var machine: LeaderLockMachine
        var leader: LeaderTerm?
        var termsWon = 0
        var termsLost = 0
        var waiters: [UInt64: (LeaderTerm?, CheckedContinuation<Void, Never>)] = [:]
        var nextWaiter: UInt64 = 0
    }

    public let lock: LeaderLock
    private let logger: Logger
    private let origin = ContinuousClock.now
    private let state: Mutex<State>

    public init(lock: LeaderLock, timing: LeaderLockMachine.Timing = .init(), logger: Logger) {
        self.lock = lock
        var logger = logger
        logger[metadataKey: "lock"] = "\(lock.key)"
        self.logger = logger
        state = Mutex(State(machine: LeaderLockMachine(timing: timing, now: .zero)))
    }

    private var now: Duration { ContinuousClock.now - origin }

    // MARK: Leadership

    public var currentTerm: LeaderTerm? {
        let now = self.now
        return state.withLock { $0.machine.term(at: now) }
    }

    public func waitForChange(from term: LeaderTerm?) async {
        // A term also ends when its proof runs out, even if no renewal answer arrives to say so
        // (Redis hangs): so a leader's wait is bounded by the proof deadline, then re-checked —
        // a renewal may have extended it meanwhile.
        while !Task.isCancelled {
            let now = self.now
            let (current, deadline) = state.withLock { ($0.machine.term(at: now), $0.machine.validUntil) }
            if current != term { return }
            guard term != nil, let deadline else {
                await waitForSignal(from: term)
                continue
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.waitForSignal(from: term) }
                group.addTask { try? await Task.sleep(until: self.origin + deadline, clock: .continuous) }
                await group.next()
                group.cancelAll()
            }
            // Past the deadline with no renewal answer: the term has lapsed; record it now (this also
            // wakes every other waiter) rather than when the hung call finally returns.
            let later = self.now
            update { $0.expireIfLapsed(now: later) }
        }
    }

    /// Returns when `update` sees a term different from `term`, or on cancellation.
    private func waitForSignal(from term: LeaderTerm?) async {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = self.now
                let resumeNow = state.withLock { s -> Bool in
                    if s.machine.term(at: now) != term || Task.isCancelled { return true }
                    s.waiters[id] = (term, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.1.resume()
        }
    }

    /// Who leads and how this instance fared.
    public var snapshot: Snapshot {
        let now = self.now
        return state.withLock { s in
            Snapshot(term: s.machine.term(at: now), leader: s.leader, termsWon: s.termsWon, termsLost: s.termsLost)
        }
    }

    // MARK: Service

    public func run() async throws {
        logger.info("leader election started", metadata: ["holder": "\(lock.holder)"])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = self.now
            let action = update { $0.nextAction(now: now) }
            switch action {
            case .wait(let until):
                try? await cancelWhenGracefulShutdown {
                    try await Task.sleep(until: self.origin + until, clock: .continuous)
                }
            case .acquire:
                await attempt()
            case .renew(let value):
                await renew(value)
            }
        }
        await resign()
    }

    private func attempt() async {
        let sentAt = now
        do {
            let seen = try await lock.acquire(ttl: state.withLock { $0.machine.timing.ttl })
            if seen.acquired, let term = seen.term, let value = seen.value {
                update { $0.acquired(term: term, value: value, lifetime: seen.remaining ?? .zero, sentAt: sentAt) }
                state.withLock {
                    $0.leader = term
                    $0.termsWon += 1
                }
                logger.notice("became leader", metadata: ["term": "\(term)"])
            } else {
                let jitter = Duration.milliseconds(Int64.random(in: 0...50))
                let now = self.now
                update { $0.held(remaining: seen.remaining ?? .zero, now: now, jitter: jitter) }
                state.withLock { $0.leader = seen.term }
            }
        } catch {
            let now = self.now
            update { $0.attemptFailed(now: now) }
            logger.debug("leader lock attempt failed", metadata: ["error": "\(error)"])
        }
    }

    private func renew(_ value: String) async {
        let sentAt = now
        do {
            let ttl = state.withLock { $0.machine.timing.ttl }
            if try await lock.renew(value: value, ttl: ttl) {
                update { $0.renewed(sentAt: sentAt) }
            } else {
                let now = self.now
                update { $0.lost(now: now) }
                logger.warning("leadership lost: the lock is held by another", metadata: ["value": "\(value)"])
            }
        } catch {
            let now = self.now
            update { $0.attemptFailed(now: now) }
            logger.warning("leader lock renewal failed", metadata: ["error": "\(error)"])
        }
    }

    private func resign() async {
        let value = state.withLock { $0.machine.heldValue }
        let now = self.now
        update(countingLoss: false) { $0.resigned(now: now) }
        if let value {
            _ = try? await lock.release(value: value)
            logger.notice("leadership released")
        }
        state.withLock { $0.leader = nil }
    }

    /// Applies `change` to the machine and wakes every waiter whose term no longer holds (also a
    /// term whose proof ran out while nothing else changed).
    @discardableResult
    private func update<T>(countingLoss: Bool = true, _ change: (inout LeaderLockMachine) -> T) -> T {
        let now = self.now
        let (result, woken, lostProof) = state.withLock { s -> (T, [CheckedContinuation<Void, Never>], Bool) in
            let before = s.machine.heldValue
            let result = change(&s.machine)
            let term = s.machine.term(at: now)
            let lostProof = before != nil && s.machine.heldValue == nil
            if lostProof && countingLoss { s.termsLost += 1 }
            var woken: [CheckedContinuation<Void, Never>] = []
            for (id, waiter) in s.waiters where waiter.0 != term {
                woken.append(waiter.1)
                s.waiters.removeValue(forKey: id)
            }
            return (result, woken, lostProof)
        }
        if lostProof { logger.notice("stopped leading") }
        for waiter in woken { waiter.resume() }
        return result
    }
}
