import TollgateTelegram

/// The decisions of one unit's run, as pure functions of the plan, the journal's records and what
/// a step's effect answered: no I/O, no clock. ``FlowRunner`` carries them out (the way
/// ``LeaderLockMachine`` is built), and `UnitDecisionsTests` checks each without Redis or Telegram.
public enum UnitDecisions {
    /// What to do with a step before running it.
    public enum Before: Sendable, Hashable {
        /// Done before (a replay): take its result and go on.
        case restore(StepResult)
        /// Never carried out, or known not to have taken effect: carry it out.
        case run
        /// A send left uncertain (its request was on the wire when the last runner stopped), whose
        /// policy is `resend`: send it again and count the uncertain send as resent.
        case resendUncertain
        /// Such a send whose policy is `skip`: record it as skipped, count it, and go on.
        case skipUncertain
    }

    public static func before(_ step: FlowStep, mark: StepMark?) -> Before {
        switch mark {
        case nil: return .run
        case .done(let result): return .restore(result)
        case .started, .unreadable:
            // Every other step is idempotent (compare-and-set, find-or-create, jobs by id): run again.
            guard case .send(let send) = step.unwrapped else { return .run }
            return send.onUncertain == .resend ? .resendUncertain : .skipUncertain
        }
    }

    /// What a step's effect leaves: recorded as done, or the end of the run.
    public enum After: Sendable, Hashable {
        /// Record `result` and go on; `sent` when a message went out now.
        case next(StepResult, sent: Bool)
        /// Record `result`, go on, and end the run with `note` (the first such note wins).
        case note(StepResult, FlowRunResult)
        /// End the unit now with this outcome (recorded: it is never run again).
        case stop(UnitOutcome, FlowRunResult)
        /// Leave the step unfinished and return this (`retry`/`deferred`): the unit comes back.
        case leave(FlowRunResult)
        /// The send may have reached the user and its policy is `skip`: record it as skipped,
        /// count it, and go on.
        case uncertainSkipped
    }

    /// After a send, given the sender's outcome and the step's policy.
    public static func afterSend(_ outcome: SendOutcome, policy: FlowSend.OnUncertain) -> After {
        switch outcome {
        case .sent(let messages):
            return .next(.sent(messageID: messages.first?.messageID ?? 0), sent: true)
        case .suppressed(let reason):
            return .note(.suppressed, .skipped("chat suppressed (\(reason))"))
        case .failed(let error):
            if error.isPermanentForChat { return .note(.suppressed, .skipped("chat suppressed (\(error.detail))")) }
            return .note(.failed, .failed(error.detail))
        case .retryLater(let after, let error, let maybeSent):
            // The sender never repeats a request that may have reached the user; the step decides.
            if maybeSent && policy == .skip { return .uncertainSkipped }
            return .leave(.retry(after: after, "telegram: \(error.code.rawValue)"))
        case .outOfTime:
            return .leave(.deferred(after: nil, "out of time before the message could leave"))
        }
    }

    /// Whether a send guarded by `guard` may still leave, given the user's state now.
    public static func mayLeave(_ guard: FlowSend.StateGuard?, current: UserState?) -> Bool {
        guard let `guard` else { return true }
        guard let current, current.phase == `guard`.phase else { return false }
        return `guard`.version.map { $0 == current.version } ?? true
    }

    /// After a compare-and-set of the user's phase.
    public static func afterTransition(_ result: TransitionResult, target: UserPhase, mustMove: Bool) -> After {
        switch result {
        case .moved(_, let version):
            return .next(.moved(version: version), sent: false)
        case .alreadyThere(let version):
            if mustMove { return stop(.skipped("already \(target.rawValue)")) }
            return .next(.alreadyThere(version: version), sent: false)
        case .refused(let current):
            if mustMove { return stop(.skipped("state is \(current?.rawValue ?? "none")")) }
            return .next(.refused, sent: false)
        }
    }

    /// Ends the unit with `result`, recorded as its outcome.
    public static func stop(_ result: FlowRunResult) -> After { .stop(outcome(of: result), result) }

    /// The outcome recorded for a finished unit.
    public static func outcome(of result: FlowRunResult) -> UnitOutcome {
        switch result {
        case .done, .retry, .deferred: .done
        case .skipped(let reason): .skipped(reason)
        case .failed(let reason): .failed(reason)
        case .alreadyDone(let outcome): outcome
        }
    }

    /// What a unit plans with: the phase, state version and offer recorded the first time (a
    /// replay plans the same steps), else the user's current state and `topic` (the offer the unit
    /// is about now), to be recorded.
    public static func planBasis(
        recorded: StepResult?, current: UserState?, topic: String?
    ) -> (phase: UserPhase?, version: Int64?, topic: String?, record: Bool) {
        if case .plan(let phase, let version, let planned) = recorded {
            guard let planned else { return (phase, version, topic, false) }
            return (phase, version, planned.isEmpty ? nil : planned, false)
        }
        return (current?.phase, current?.version, topic, true)
    }

    /// The cycle (state version) and row id a finished step gives the steps after it.
    public static func restored(_ step: FlowStep, _ result: StepResult) -> (recordID: Int64?, cycle: Int64?) {
        switch (step.unwrapped, result) {
        case (.ensureRecord, .record(let id)), (.ensureRecord, .legacyNumber(let id)): (id, nil)
        case (.transition, .moved(let v)), (.transition, .alreadyThere(let v)): (nil, v)
        default: (nil, nil)
        }
    }
}

extension FlowStep {
    /// The step a conditional step (``FlowStep/ifRenewed(_:_:)``) wraps; others as they are.
    public var unwrapped: FlowStep {
        if case .ifRenewed(_, let inner) = self { return inner.unwrapped }
        return self
    }
}
