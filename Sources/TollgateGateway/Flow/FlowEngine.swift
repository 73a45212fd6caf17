import TollgateTelegram

/// Something the flow reacts to: a user's update, or a job the poller delivers.
public enum FlowEvent: Sendable, Hashable {
    case start
    case status
    /// Any other text.
    case text
    /// The "Get access" button.
    case getAccess(callbackID: String)
    /// An offer's button (`topic:<id>`), after `/start` when the flow lists several.
    case chooseTopic(id: String, callbackID: String)
    /// A button the flow does not know (an old keyboard).
    case otherButton(callbackID: String)
    /// A reminder job fell due; `cycle` is the state version it was scheduled for.
    case reminder(step: String, cycle: Int64?)
    case paymentConfirmed
    case paymentExpired
    /// A free text sent by an operator through the poller (`message` jobs).
    case message(String)
    /// The user exceeded the inbound limit; `notify` on the first refused update of the window.
    case overLimit(callbackID: String?, notify: Bool)
    /// Someone asked to join a club chat with a link that creates join requests.
    case joinRequest(ChatJoinRequest)
    /// Someone's membership of a club chat changed (joined, left, was removed).
    case memberChanged(ChatMemberUpdated)
    /// A renewal reminder fell due for the paid period ending at `untilMs`.
    case accessReminder(step: String, untilMs: Int64)
    /// The paid period ending at `untilMs` is over.
    case accessLapse(untilMs: Int64)
    /// A reconciliation found the user entitled (by the grant `grantID`) but outside every club
    /// chat without a live link: send a fresh one.
    case reinvite(grantID: String)

    /// Work of a grant in the ledger (its period's reminders and lapse, a re-invite): it is about
    /// the offer and the row of that grant, not whatever the user's state says now.
    public var isGrantWork: Bool {
        switch self {
        case .accessReminder, .accessLapse, .reinvite: true
        default: false
        }
    }

    /// Events of the club's door: not the user writing to the bot (no inbound limit, no unblock).
    public var isDoorEvent: Bool {
        switch self {
        case .joinRequest, .memberChanged: true
        default: false
        }
    }
}

extension FlowDefinition {
    /// The keyboard of a message that leads to the payment page: the pay button, if there is one.
    var payKeyboard: FlowKeyboard { payButton == nil ? .none : .pay }
}

/// Which inline keyboard goes with a message.
public enum FlowKeyboard: Sendable, Hashable {
    case none
    /// The "Get access" callback button.
    case getAccess
    /// A URL button to the payment page.
    case pay
    /// One callback button per offer (`topic:<id>`).
    case topics
}

/// One message the flow sends, and what a replay does when it cannot know whether it went out.
public struct FlowSend: Sendable, Hashable {
    /// What a send whose outcome is unknown (its request was written, no readable answer came, or
    /// the runner stopped meanwhile) does: the flow file's `on_uncertain`.
    public enum OnUncertain: String, Sendable, Hashable, CaseIterable {
        /// Send it again: never lost, perhaps shown twice. The default for replies to the user's own
        /// action (welcome, payment link, status, help, already-paid) and the payment confirmation:
        /// a silent bot or an unconfirmed payment is worse than a repeat.
        case resend
        /// Skip it: never shown twice, perhaps lost. The default for what nobody is waiting for —
        /// reminders, expiry notices, operator messages, the over-limit notice — where a repeat nags.
        case skip
    }

    /// The user's state a send is only for (a reminder: still awaiting payment, in the cycle it
    /// was scheduled for). Checked right before each attempt leaves — the sender may wait seconds
    /// for a slot or a retry, and a payment may be confirmed meanwhile.
    public struct StateGuard: Sendable, Hashable {
        public var phase: UserPhase
        /// The state version (the cycle); nil: any version of `phase`.
        public var version: Int64?
    }

    public var message: FlowDefinition.Message
    public var keyboard: FlowKeyboard
    public var onUncertain: OnUncertain
    public var onlyWhile: StateGuard?

    /// - Parameter byDefault: the policy when the message does not set one (`on_uncertain` in the flow file).
    public init(_ message: FlowDefinition.Message, keyboard: FlowKeyboard = .none, byDefault: OnUncertain = .skip) {
        self.message = message
        self.keyboard = keyboard
        self.onUncertain = message.onUncertain ?? byDefault
    }

    /// This send, only while the user is in `phase` (at `version`, when given).
    public func only(while phase: UserPhase, version: Int64?) -> FlowSend {
        var send = self
        send.onlyWhile = StateGuard(phase: phase, version: version)
        return send
    }
}

/// One effect of a plan, carried out by ``FlowRunner`` and journaled step by step.
public enum FlowStep: Sendable, Hashable {
    case answerCallback(id: String, text: String?)
    /// Find or create the user's NocoDB row (Paid = false): gives `record_id`.
    case ensureRecord
    /// Compare-and-set of the user's phase. With `mustMove`, a refusal or "already there" ends the
    /// plan as skipped (a second payment confirmation shows nothing).
    case transition(to: UserPhase, from: [UserPhase?], mustMove: Bool)
    case send(FlowSend)
    /// The user picks the offer `id`: a compare-and-set to `topic_selected` (from no state, idle
    /// or another pick) recording the offer; the rest of the unit is for that offer.
    case selectTopic(String)
    case watchPayment
    case scheduleReminders
    case cancelReminders
    /// The club's door: the user is entitled (a confirmed payment, from its NocoDB row).
    case grantAccess
    /// The club's door: the user's personal invite links (reused while live), for `{invite_link}`.
    case issueInvites
    /// The club's door: approve or decline a join request by the ledger.
    case answerJoinRequest(ChatJoinRequest)
    /// The club's door: a member who is not entitled is shown out.
    case checkMember(ChatMemberUpdated)
    /// The club's door, access periods: the payment is credited (the row's Paid unticked), so the
    /// next payment — a renewal — ticks it again (`ACCESS_PERIOD` without an expiry column).
    case creditPayment
    /// The club's door: the renewal reminders and the lapse of the period granted (jobs by id).
    case schedulePeriod
    /// The club's door: the period ending at `untilMs` is still the one in force (else the unit
    /// ends as skipped: a job of an earlier period), and was it renewed in the row meanwhile?
    /// Renews it if so.
    case renewFromRecord(untilMs: Int64)
    /// The club's door: the period ending at `untilMs` ends — the ledger entry, the member shown
    /// out of every club chat, their links revoked.
    case endAccess(untilMs: Int64)
    /// `step` only if the period was renewed by ``renewFromRecord(untilMs:)`` (`true`) or not.
    indirect case ifRenewed(Bool, FlowStep)
}

/// What to do for an event: the steps, or why nothing.
public struct FlowPlan: Sendable, Hashable {
    public var steps: [FlowStep]
    /// Set when the event needs nothing (a reminder for a user who has paid).
    public var skipReason: String?

    public static func skip(_ reason: String) -> FlowPlan { FlowPlan(steps: [], skipReason: reason) }
}

/// The paid-access flow as a pure function: (event, current phase) → plan. No I/O, no clock.
public struct FlowEngine: Sendable {
    public let flow: FlowDefinition
    /// A club is configured (`CLUB_CHAT_ID`): confirmations grant access and `{invite_link}` is the
    /// user's personal link, not the flow file's.
    public let club: Bool
    /// Access ends (`ACCESS_PERIOD`, `NOCODB_PAID_UNTIL_FIELD`): renewal reminders and lapses.
    public let periods: Bool
    /// Payments are credited as periods (`ACCESS_PERIOD` without an expiry column).
    public let credits: Bool

    public init(flow: FlowDefinition, club: Bool = false, periods: Bool = false, credits: Bool = false) {
        self.flow = flow
        self.club = club
        self.periods = club && periods
        self.credits = club && periods && credits
    }

    /// Steps that fill `{invite_link}` before a message that shows it, with a club.
    private var invites: [FlowStep] { club ? [.issueInvites] : [] }

    /// What follows a renewal found in the row: the next period's jobs, a credit, the thanks.
    private var renewed: [FlowStep] {
        (credits ? [.ifRenewed(true, .creditPayment)] : []) + [
            .ifRenewed(true, .schedulePeriod), .ifRenewed(true, .send(FlowSend(flow.renewed))),
        ]
    }

    static let beforePaid: [UserPhase?] = [nil, .idle, .topicSelected, .awaitingPayment]

    /// The engine for the offer `id` (``FlowDefinition/offer(_:)``): its texts, payment page and
    /// reminders over the flow's.
    public func forOffer(_ id: String?) -> FlowEngine {
        guard !flow.topics.isEmpty else { return self }
        var engine = self
        engine.offerFlow = flow.offer(id)
        return engine
    }

    /// The flow of the offer this engine plans for (the flow itself without offers).
    private var offerFlow: FlowDefinition?
    private var current: FlowDefinition { offerFlow ?? flow }

    /// The welcome: with several offers, their buttons; else "Get access".
    private var welcome: FlowStep {
        .send(FlowSend(flow.welcome, keyboard: flow.choosesTopic ? .topics : .getAccess, byDefault: .resend))
    }

    /// - Parameter topic: the offer the user picked (their state's `topic`), when the flow lists several.
    public func plan(_ event: FlowEvent, phase: UserPhase?, stateVersion: Int64? = nil, topic: String? = nil) -> FlowPlan {
        let flow = current
        switch event {
        case .start:
            if phase == .paid { return FlowPlan(steps: invites + [.send(FlowSend(flow.alreadyPaid, byDefault: .resend))]) }
            return FlowPlan(steps: [.transition(to: .idle, from: [nil], mustMove: false), welcome])
        case .chooseTopic(let id, let callbackID):
            let answer = FlowStep.answerCallback(id: callbackID, text: nil)
            guard self.flow.choosesTopic else { return FlowPlan(steps: [answer]) }
            guard self.flow.topics.contains(where: { $0.id == id }) else {
                return FlowPlan(steps: [.answerCallback(id: callbackID, text: "This offer is no longer available."), welcome])
            }
            if phase == .paid { return FlowPlan(steps: [answer] + invites + [.send(FlowSend(flow.alreadyPaid, byDefault: .resend))]) }
            if phase == .awaitingPayment {
                // The payment in progress decides what it opens: the pick waits until it is paid or expires.
                if id == topic {
                    return FlowPlan(steps: [answer, .send(FlowSend(flow.payment, keyboard: flow.payKeyboard, byDefault: .resend))])
                }
                return FlowPlan(steps: [answer, .send(FlowSend(self.flow.topicLocked, keyboard: flow.payKeyboard, byDefault: .resend))])
            }
            return FlowPlan(steps: [answer, .selectTopic(id), .send(FlowSend(self.flow.topicChosen, keyboard: .getAccess, byDefault: .resend))])
        case .status:
            let text = flow.status[phase?.rawValue ?? "none"] ?? flow.status["none"] ?? "Send /start."
            return FlowPlan(steps: (phase == .paid ? invites : []) + [.send(FlowSend(FlowDefinition.Message(text: text), byDefault: .resend))])
        case .text:
            guard let help = flow.help else { return .skip("no reply to free text") }
            return FlowPlan(steps: [.send(FlowSend(FlowDefinition.Message(text: help), byDefault: .resend))])
        case .getAccess(let id):
            let answer = FlowStep.answerCallback(id: id, text: flow.getAccessAnswer)
            if phase == .paid { return FlowPlan(steps: [answer] + invites + [.send(FlowSend(flow.alreadyPaid, byDefault: .resend))]) }
            // Several offers and none picked yet (an old "Get access" button): pick one first.
            if self.flow.choosesTopic, self.flow.topic(topic) == nil { return FlowPlan(steps: [answer, welcome]) }
            return FlowPlan(steps: [
                answer, .ensureRecord,
                .transition(to: .awaitingPayment, from: Self.beforePaid, mustMove: false),
                .send(FlowSend(flow.payment, keyboard: flow.payKeyboard, byDefault: .resend)),
                .watchPayment, .scheduleReminders,
            ])
        case .otherButton(let id):
            return FlowPlan(steps: [.answerCallback(id: id, text: nil)])
        case .reminder(let step, let cycle):
            guard phase == .awaitingPayment else { return .skip("not awaiting payment (\(phase?.rawValue ?? "no state"))") }
            if let cycle, let stateVersion, cycle != stateVersion { return .skip("reminder of an earlier payment request") }
            guard let reminder = flow.reminders.first(where: { $0.step == step }) else {
                return .skip("no reminder step '\(step)' in the flow")
            }
            return FlowPlan(steps: [.send(FlowSend(reminder.message).only(while: .awaitingPayment, version: cycle ?? stateVersion))])
        case .paymentConfirmed:
            if phase == .paid { return .skip("already paid") }
            let door: [FlowStep] =
                club ? [.grantAccess] + (credits ? [.creditPayment] : []) + (periods ? [.schedulePeriod] : []) : []
            return FlowPlan(
                steps: [.transition(to: .paid, from: Self.beforePaid, mustMove: true)] + door + invites + [
                    .send(FlowSend(flow.paid, byDefault: .resend)), .cancelReminders,
                ])
        case .accessReminder(let step, let until):
            guard periods else { return .skip("no access periods configured") }
            // Whether the period is still the one in force is the ledger's to say (the first step),
            // not the user's state, which may have expired during a long period or never been paid
            // (an operator's grant).
            guard let reminder = flow.renewalReminders.first(where: { $0.step == step }) else {
                return .skip("no renewal reminder step '\(step)' in the flow")
            }
            return FlowPlan(steps: [.renewFromRecord(untilMs: until)] + renewed + [
                .ifRenewed(false, .send(FlowSend(reminder.message, keyboard: flow.payKeyboard))),
            ])
        case .accessLapse(let until):
            guard periods else { return .skip("no access periods configured") }
            return FlowPlan(steps: [.renewFromRecord(untilMs: until)] + renewed + [
                .ifRenewed(false, .endAccess(untilMs: until)),
                .ifRenewed(false, .transition(to: .awaitingPayment, from: Self.beforePaid + [.paid], mustMove: false)),
                .ifRenewed(false, .send(FlowSend(flow.lapsed, keyboard: flow.payKeyboard))),
                .ifRenewed(false, .watchPayment),
            ])
        case .paymentExpired:
            guard phase == .awaitingPayment else { return .skip("not awaiting payment") }
            return FlowPlan(steps: [
                .transition(to: .idle, from: [.awaitingPayment], mustMove: true), .send(FlowSend(flow.expired)),
                .cancelReminders,
            ])
        case .message(let text):
            return FlowPlan(steps: [.send(FlowSend(FlowDefinition.Message(text: text)))])
        case .overLimit(let id, let notify):
            var steps: [FlowStep] = []
            if let id { steps.append(.answerCallback(id: id, text: nil)) }
            if notify { steps.append(.send(FlowSend(FlowDefinition.Message(text: flow.rateLimited)))) }
            return steps.isEmpty ? .skip("over the inbound limit") : FlowPlan(steps: steps)
        case .reinvite:
            guard club else { return .skip("no club configured") }
            return FlowPlan(steps: [.issueInvites, .send(FlowSend(flow.reinvite))])
        case .joinRequest(let request):
            guard club else { return .skip("no club configured") }
            return FlowPlan(steps: [.answerJoinRequest(request)])
        case .memberChanged(let change):
            guard club else { return .skip("no club configured") }
            return FlowPlan(steps: [.checkMember(change)])
        }
    }
}
