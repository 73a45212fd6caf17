import Synchronization
import TollgateCoordination
import TollgateGateway
import TollgateIPC

/// Test stand-ins for the parts other services provide.

/// Always the leader, in term 1.
struct AlwaysLeader: Leadership {
    var currentTerm: LeaderTerm? { LeaderTerm(holder: "test", token: 1) }
    func waitForChange(from term: LeaderTerm?) async {
        if term == currentTerm {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        }
    }
}

/// No flood limits (for flow tests; the shared limiter has its own tests).
struct NoLimits: OutboundRateLimiter {
    func acquire(chatID: Int64, cost: Int) async throws {}
    func pushBack(chatID: Int64, by delay: Duration) async throws {}
    func acquireBackground() async throws {}
}

/// An in-memory payments table.
final class FakeDirectory: UserDirectory {
    struct State {
        var rows: [Int64: Int64] = [:]
        var calls = 0
        var failures = 0
        /// Payment columns by row id (absent: paid).
        var payments: [Int64: PaymentRecord] = [:]
        var credits: [Int64] = []
    }
    let state = Mutex(State())

    func paymentRecord(_ recordID: Int64) async throws -> PaymentRecord? {
        state.withLock { $0.payments[recordID] ?? PaymentRecord(paid: true) }
    }

    func credit(_ recordID: Int64) async throws {
        state.withLock { s in
            s.credits.append(recordID)
            s.payments[recordID, default: PaymentRecord(paid: true)].paid = false
        }
    }

    func findOrCreate(telegramID: Int64, firstName: String, username: String?) async throws -> Int64 {
        try state.withLock { s in
            s.calls += 1
            if s.failures > 0 {
                s.failures -= 1
                throw FakeFailure.unavailable
            }
            if let id = s.rows[telegramID] { return id }
            let id = Int64(s.rows.count + 1)
            s.rows[telegramID] = id
            return id
        }
    }

    var rows: [Int64: Int64] { state.withLock { $0.rows } }
    var calls: Int { state.withLock { $0.calls } }
    func failNext(_ n: Int) { state.withLock { $0.failures = n } }
}

enum FakeFailure: Error { case unavailable }

/// Records what the gateway asked of the poller.
final class FakePoller: PollerRequests {
    struct State {
        var scheduled: [String: Schedule] = [:]
        var cancels: [Cancel] = []
        var watches: [Int64: WatchPayment] = [:]
    }
    let state = Mutex(State())

    func schedule(_ request: Schedule) async throws -> Schedule.Reply {
        let created = state.withLock { s -> Bool in
            guard s.scheduled[request.jobID!] == nil else { return false }
            s.scheduled[request.jobID!] = request
            return true
        }
        return Schedule.Reply(jobID: request.jobID!, created: created, dueAtMs: request.delayMs ?? 0)
    }

    func cancel(_ request: Cancel) async throws -> Cancel.Reply {
        let n = state.withLock { s -> Int in
            s.cancels.append(request)
            let before = s.scheduled.count
            s.scheduled = s.scheduled.filter { $0.value.userID != request.userID || (request.kind != nil && $0.value.kind != request.kind) }
            return before - s.scheduled.count
        }
        return Cancel.Reply(cancelled: n)
    }

    func watchPayment(_ request: WatchPayment) async throws -> WatchPayment.Reply {
        let created = state.withLock { s -> Bool in
            defer { s.watches[request.userID] = request }
            return s.watches[request.userID] == nil
        }
        return WatchPayment.Reply(created: created, expiresAtMs: request.expiresInMs ?? 0)
    }

    var scheduled: [String: Schedule] { state.withLock { $0.scheduled } }
    var cancels: [Cancel] { state.withLock { $0.cancels } }
    var watches: [Int64: WatchPayment] { state.withLock { $0.watches } }
}
