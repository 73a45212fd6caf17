import Logging
import Synchronization
import TollgateCore
import TollgateIPC

/// The `deliver` request (Protocols/gateway.md): due jobs from the poller, shown to users.
///
/// Each delivery runs the flow as the unit `j:<job_id>` of the effect journal: a job id seen
/// before is answered from its recorded outcome (`duplicate` when it was delivered) without
/// sending again, and a job interrupted by a crash resumes where it stopped. A reply is given only
/// after every message was sent or failed for good. One chat's deliveries run in batch order,
/// different chats concurrently.
public final class DeliverHandler: Sendable {
    public struct Counters: Sendable, Equatable {
        public var outcomes: [String: Int] = [:]
    }

    let runner: FlowRunner
    let concurrency: Int
    let logger: Logger
    let counters: Mutex<Counters>
    let faultLog = LogThrottle(interval: .seconds(30))

    public init(runner: FlowRunner, concurrency: Int = 64, logger: Logger) {
        self.runner = runner
        self.concurrency = concurrency
        self.logger = logger
        self.counters = Mutex(Counters())
    }

    /// The instant by which no message of `request` may leave: the poller's wait
    /// (`reply_within_ms`, else 60 s) less a margin for the messages in flight and the reply.
    static func departBy(_ request: Deliver, receivedAt: ContinuousClock.Instant) -> ContinuousClock.Instant {
        let within = Duration.milliseconds(min(max(request.replyWithinMs ?? 60_000, 0), 3_600_000))
        let margin = min(max(within / 4, .milliseconds(250)), .seconds(5))
        return receivedAt + max(.zero, within - margin)
    }

    public func handle(_ request: Deliver) async -> Deliver.Reply {
        let departBy = Self.departBy(request, receivedAt: .now)
        var byChat: [Int64: [Int]] = [:]
        var order: [Int64] = []
        for (index, delivery) in request.deliveries.enumerated() {
            if byChat[delivery.chatID] == nil { order.append(delivery.chatID) }
            byChat[delivery.chatID, default: []].append(index)
        }
        var results = [DeliveryResult?](repeating: nil, count: request.deliveries.count)
        await withTaskGroup(of: [(Int, DeliveryResult)].self) { group in
            var running = 0
            for chat in order {
                if running >= concurrency, let done = await group.next() {
                    for (i, r) in done { results[i] = r }
                    running -= 1
                }
                let indexes = byChat[chat]!
                group.addTask {
                    var out: [(Int, DeliveryResult)] = []
                    for i in indexes { out.append((i, await self.deliver(request.deliveries[i], departBy: departBy))) }
                    return out
                }
                running += 1
            }
            for await done in group { for (i, r) in done { results[i] = r } }
        }
        let final = results.map { $0! }
        counters.withLock { c in for r in final { c.outcomes[r.outcome.rawValue, default: 0] += 1 } }
        return Deliver.Reply(results: final)
    }

    public var stats: Counters { counters.withLock { $0 } }

    func deliver(_ d: Delivery, departBy: ContinuousClock.Instant) async -> DeliveryResult {
        if ContinuousClock.now >= departBy {
            return DeliveryResult(jobID: d.jobID, outcome: .retry, detail: "out of time before it could be sent", attempted: false)
        }
        // The payload is outside data (stored in Redis, sent by a peer): read through its kind's
        // shape; one that does not fit can never be shown and is dead-lettered with the reason.
        let work: DueWork
        do throws(IPCError) {
            work = try DueWork(kind: d.kind, payload: d.payload)
        } catch {
            return DeliveryResult(jobID: d.jobID, outcome: .failed, detail: error.message)
        }
        let event: FlowEvent
        switch work {
        case .reminder(let step, let cycle): event = .reminder(step: step, cycle: cycle)
        case .paymentConfirmed: event = .paymentConfirmed
        case .paymentExpired: event = .paymentExpired
        case .message(let text): event = .message(text)
        case .accessReminder(let step, let until): event = .accessReminder(step: step, untilMs: until)
        case .accessLapse(let until): event = .accessLapse(untilMs: until)
        }
        let user = FlowUser(userID: d.userID, chatID: d.chatID, firstName: "")
        var record: Int64?
        if case .paymentConfirmed(let id) = work { record = id }
        do {
            switch try await runner.run(scope: "j:\(d.jobID)", event: event, user: user, departBy: departBy, record: record) {
            case .done:
                return DeliveryResult(jobID: d.jobID, outcome: .delivered)
            case .skipped(let reason):
                return DeliveryResult(jobID: d.jobID, outcome: .skipped, detail: reason)
            case .failed(let reason):
                return DeliveryResult(jobID: d.jobID, outcome: .failed, detail: reason)
            case .alreadyDone(let outcome):
                switch outcome {
                case .skipped(let reason): return DeliveryResult(jobID: d.jobID, outcome: .skipped, detail: reason)
                case .failed(let reason): return DeliveryResult(jobID: d.jobID, outcome: .failed, detail: reason)
                case .done, .unreadable: return DeliveryResult(jobID: d.jobID, outcome: .duplicate)
                }
            case .retry(let after, let detail):
                return DeliveryResult(jobID: d.jobID, outcome: .retry, retryAfterMs: after?.milliseconds, detail: detail)
            case .deferred(let after, let detail):
                return DeliveryResult(
                    jobID: d.jobID, outcome: .retry, retryAfterMs: after?.milliseconds, detail: detail, attempted: false)
            }
        } catch {
            if let held = faultLog.admit("delivery") {
                logger.warning(
                    "delivery failed, the poller will retry", metadata: ["job": "\(d.jobID)", "error": "\(error)", "suppressed": "\(held)"])
            }
            return DeliveryResult(jobID: d.jobID, outcome: .retry, retryAfterMs: 1000, detail: "gateway: \(error)")
        }
    }
}
