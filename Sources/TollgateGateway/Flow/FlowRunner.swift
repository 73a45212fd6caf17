import Logging
import Synchronization
import TollgateCore
import TollgateIPC
import TollgateRedis
import TollgateTelegram

/// Who the flow is talking to.
public struct FlowUser: Sendable, Hashable {
    public var userID: Int64
    public var chatID: Int64
    public var firstName: String
    public var username: String?

    public init(userID: Int64, chatID: Int64, firstName: String, username: String? = nil) {
        self.userID = userID
        self.chatID = chatID
        self.firstName = firstName
        self.username = username
    }
}

/// How a run ended.
public enum FlowRunResult: Sendable, Hashable {
    /// Every step done; `sent` messages went out now (0 on a replay of finished work).
    case done(sent: Int)
    /// Nothing to do, or the chat is suppressed.
    case skipped(String)
    /// A message can never be sent (bad request): the rest was carried out.
    case failed(String)
    /// This unit was finished before (`outcome` as recorded).
    case alreadyDone(UnitOutcome)
    /// Stopped at a step that must be tried again later; finished steps stay done.
    case retry(after: Duration?, String)
    /// Not tried now, through no fault of the unit: another runner holds it, or the run's time
    /// (`departBy`) ran out before its next message could leave. Finished steps stay done.
    case deferred(after: Duration?, String)
}

/// Carries out a ``FlowPlan`` step by step, journaling each (``EffectJournal``) so that running the
/// same unit again — after a crash, a redelivered job, a replayed update — repeats nothing that
/// already happened.
public struct FlowRunner: Sendable {
    public let engine: FlowEngine
    let journal: EffectJournal
    let states: UserStateStore
    let sender: OutboundSender
    let telegram: TelegramClient
    let directory: any UserDirectory
    let poller: any PollerRequests
    /// The club's door, when a club is configured.
    let door: ClubDoor?
    public let counters: FlowCounters
    let claims: RunClaims
    let logger: Logger

    /// - Parameter claimTTL: how long a crashed runner's claim on a unit outlives it (``RunClaims``).
    public init(
        engine: FlowEngine, journal: EffectJournal, states: UserStateStore, sender: OutboundSender, telegram: TelegramClient,
        directory: any UserDirectory, poller: any PollerRequests, door: ClubDoor? = nil, counters: FlowCounters = FlowCounters(),
        claimTTL: Duration = .seconds(15), logger: Logger
    ) {
        self.door = door
        self.claims = RunClaims(redis: journal.redis, keys: journal.keys, ttl: claimTTL, logger: logger)
        self.engine = engine
        self.journal = journal
        self.states = states
        self.sender = sender
        self.telegram = telegram
        self.directory = directory
        self.poller = poller
        self.counters = counters
        self.logger = logger
    }

    var flow: FlowDefinition { engine.flow }

    /// The jobs of a paid period ending at `untilMs`: its renewal reminders still ahead and its
    /// lapse, by stable ids (scheduling them again stores nothing).
    func schedulePeriod(of user: FlowUser, untilMs until: Int64, flow: FlowDefinition? = nil) async throws {
        for reminder in AccessTerms.reminders(flow ?? self.flow, untilMs: until, nowMs: WallClock.epochMilliseconds()) {
            let work = DueWork.accessReminder(step: reminder.step, untilMs: until)
            _ = try await poller.schedule(
                Schedule(
                    jobID: AccessTerms.reminderJobID(user: user.userID, untilMs: until, step: reminder.step), kind: work.kind,
                    userID: user.userID, chatID: user.chatID, dueAtMs: reminder.dueMs, payload: work.payload))
        }
        let lapse = DueWork.accessLapse(untilMs: until)
        _ = try await poller.schedule(
            Schedule(
                jobID: AccessTerms.lapseJobID(user: user.userID, untilMs: until), kind: lapse.kind, userID: user.userID,
                chatID: user.chatID, dueAtMs: until, payload: lapse.payload))
    }

    /// Runs `event` for `user` as the unit `scope` (`u:<update_id>`, `j:<job_id>`), in at most one
    /// place at a time: while another runner (this process or another gateway) holds the unit, the
    /// answer is `retry` and nothing is done.
    ///
    /// - Parameter departBy: no message of this run leaves after this instant; the run stops there
    ///   with `retry` (nothing sent is repeated later, nothing unsent is lost) — a `deliver` must
    ///   answer before the poller stops waiting.
    /// - Parameter record: the NocoDB row the work is about, when the job names it (a
    ///   confirmation: the row the poller found paid) — it wins over the one the state remembers.
    /// - Throws: what the infrastructure throws (Redis, NocoDB, the poller socket): the unit is
    ///   unfinished and must be run again later.
    public func run(
        scope: String, event: FlowEvent, user: FlowUser, departBy: ContinuousClock.Instant? = nil, record: Int64? = nil
    ) async throws -> FlowRunResult {
        let result = try await claims.whileHolding(scope) {
            try await runClaimed(scope: scope, event: event, user: user, departBy: departBy, record: record)
        }
        guard let result else {
            counters.add(\.runningElsewhere)
            return .deferred(after: .seconds(1), "running elsewhere")
        }
        return result
    }

    private func runClaimed(
        scope: String, event: FlowEvent, user: FlowUser, departBy: ContinuousClock.Instant?, record named: Int64?
    ) async throws -> FlowRunResult {
        let record = try await journal.load(scope)
        if let outcome = record.outcome { return .alreadyDone(outcome) }
        let state = try await states.state(of: user.userID)
        // The offer the user picked (several in the flow: its texts, payment page and reminders)
        // and their row — for the work of a grant, the grant's own, from the ledger: the state may
        // have expired during a long period, or the grant be an operator's.
        var topic = state?.metadata["topic"]
        var recordID = named ?? state?.metadata["record_id"].flatMap { Int64($0) }
        if event.isGrantWork, let door {
            let entry = try await door.ledger.entry(user.userID)
            if entry.grantID != nil {
                topic = entry.offer
                recordID = entry.recordID ?? recordID
            }
        }
        // The plan depends on what was seen the first time: a replay plans with the same phase and offer.
        let basis = UnitDecisions.planBasis(recorded: record.result("plan"), current: state, topic: topic)
        if basis.record {
            try await journal.markDone(scope, "plan", .plan(phase: basis.phase, version: basis.version ?? 0, topic: basis.topic ?? ""))
        }
        topic = basis.topic
        let plan = engine.forOffer(topic).plan(event, phase: basis.phase, stateVersion: basis.version, topic: topic)
        if let reason = plan.skipReason {
            try await journal.finish(scope, .skipped(reason))
            return .skipped(reason)
        }
        var user = user
        if user.firstName.isEmpty { user.firstName = state?.metadata["first_name"] ?? "there" }
        var context = Context(
            user: user, recordID: recordID, cycle: state?.version, base: flow, topic: topic)
        var sent = 0
        var endNote: FlowRunResult?
        for (index, step) in plan.steps.enumerated() {
            let key = "s\(index)"
            let after: UnitDecisions.After
            switch UnitDecisions.before(step, mark: record.steps[key]) {
            case .restore(let result):
                context.restore(step, result)
                continue
            case .skipUncertain:
                after = .uncertainSkipped
            case .resendUncertain:
                counters.add(\.uncertainResent)
                logger.warning("sending again a message that may have gone out (on_uncertain: resend)", metadata: ["scope": "\(scope)"])
                after = try await execute(step, key: key, scope: scope, departBy: departBy, context: &context)
            case .run:
                after = try await execute(step, key: key, scope: scope, departBy: departBy, context: &context)
            }
            switch after {
            case .next(let result, let didSend):
                try await journal.markDone(scope, key, result)
                context.restore(step, result)
                if didSend { sent += 1 }
            case .uncertainSkipped:
                counters.add(\.uncertainSkipped)
                logger.warning("not sending again a message that may have gone out (on_uncertain: skip)", metadata: ["scope": "\(scope)"])
                try await journal.markDone(scope, key, .uncertainSkipped)
            case .note(let result, let note):
                try await journal.markDone(scope, key, result)
                endNote = endNote ?? note
            case .stop(let outcome, let result):
                try await journal.finish(scope, outcome)
                return result
            case .leave(let result):
                return result
            }
        }
        let final = endNote ?? .done(sent: sent)
        try await journal.finish(scope, UnitDecisions.outcome(of: final))
        return final
    }

    /// The values texts and steps need.
    struct Context {
        var user: FlowUser
        var recordID: Int64?
        var cycle: Int64?
        /// The flow as configured, and the offer the user picked (``FlowDefinition/offer(_:)``).
        let base: FlowDefinition
        var topic: String? {
            didSet { flow = base.offer(topic) }
        }
        /// The flow for the user's offer.
        private(set) var flow: FlowDefinition

        init(user: FlowUser, recordID: Int64?, cycle: Int64?, base: FlowDefinition, topic: String?) {
            self.user = user
            self.recordID = recordID
            self.cycle = cycle
            self.base = base
            self.topic = topic
            self.flow = base.offer(topic)
        }
        /// The user's personal invite links (the club's door), for `{invite_link}`.
        var inviteLinks: [String] = []
        /// The end of access granted or renewed by this unit (Unix ms), for `{access_until}`.
        var accessUntil: Int64?
        /// What ``FlowStep/renewFromRecord(untilMs:)`` found (nil: not run yet or not renewed).
        var renewedUntil: Int64?

        mutating func restore(_ step: FlowStep, _ result: StepResult) {
            let values = UnitDecisions.restored(step, result)
            if case .selectTopic(let id) = step.unwrapped { topic = id }
            if let id = values.recordID { recordID = id }
            if let v = values.cycle { cycle = v }
            switch result {
            case .invites(let links): inviteLinks = links
            case .granted(_, let until, let offer):
                accessUntil = until
                // The offer granted (the row's may differ from the pick): the period's reminders are its.
                if let offer { topic = offer.isEmpty ? nil : offer }
            case .renewal(let until, let offer):
                renewedUntil = until
                if until != nil, let offer { topic = offer.isEmpty ? nil : offer }
                if let until {
                    accessUntil = until
                } else if case .renewFromRecord(let current) = step.unwrapped {
                    accessUntil = current
                }
            default: break
            }
        }
    }
}
