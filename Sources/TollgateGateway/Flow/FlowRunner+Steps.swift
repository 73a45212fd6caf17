import TollgateCore
import TollgateIPC
import TollgateTelegram

extension FlowRunner {
    /// Carries out one step and says what it left (``UnitDecisions/After``); the runner records it.
    func execute(
        _ step: FlowStep, key: String, scope: String, departBy: ContinuousClock.Instant?, context: inout Context
    ) async throws -> UnitDecisions.After {
        switch step {
        case .answerCallback(let id, let text):
            do throws(TelegramError) {
                try await telegram.answerCallbackQuery(id: id, text: text)
            } catch {
                // Only cosmetic (the button's spinner): a lost or expired answer is not worth a retry.
                logger.debug("callback answer failed", metadata: ["error": "\(error.code.rawValue)"])
            }
            return .next(.plain, sent: false)

        case .ensureRecord:
            if let id = context.recordID { return .next(.record(id: id), sent: false) }
            let id = try await directory.findOrCreate(
                telegramID: context.user.userID, firstName: context.user.firstName, username: context.user.username)
            counters.add(\.recordsEnsured)
            return .next(.record(id: id), sent: false)

        case .transition(let target, let allowed, let mustMove):
            var metadata = stateMetadata(context)
            // The offer this unit planned for, written with the move: a payment started for one
            // offer is confirmed for that one, even if another pick raced it.
            if target == .awaitingPayment, let topic = context.topic { metadata["topic"] = topic }
            let result = try await states.transition(context.user.userID, to: target, from: allowed, metadata: metadata)
            return UnitDecisions.afterTransition(result, target: target, mustMove: mustMove)

        case .selectTopic(let id):
            var metadata = stateMetadata(context)
            metadata["topic"] = id
            let result = try await states.transition(
                context.user.userID, to: .topicSelected, from: [nil, .idle, .topicSelected], metadata: metadata)
            // Refused: the user moved on meanwhile (paying, paid); the pick is not recorded. Already
            // in topic_selected (a second pick): the new offer is recorded, and confirmed to them.
            if case .alreadyThere(let version) = result { return .next(.alreadyThere(version: version), sent: false) }
            return UnitDecisions.afterTransition(result, target: .topicSelected, mustMove: true)

        case .send(let send):
            let journal = self.journal
            let states = self.states
            let userID = context.user.userID
            // The mark covers only a request on the wire: set before each attempt leaves, cleared as
            // soon as an attempt is known not to have gone out (any HTTP status, a refused connection),
            // so a crash during the sender's waits leaves nothing uncertain. A guarded send (a
            // reminder) checks the user's state first: a payment confirmed while it waited stops it.
            let outcome: SendOutcome
            do {
                outcome = try await sender.send(
                    render(send, context), departBy: departBy,
                    beforeDeparture: {
                        if let stateGuard = send.onlyWhile {
                            let now = try await states.state(of: userID)
                            guard UnitDecisions.mayLeave(stateGuard, current: now) else { throw StateMoved(phase: now?.phase) }
                        }
                        try await journal.markStarted(scope, key)
                    },
                    afterKnownNotSent: { try await journal.clear(scope, key) })
            } catch let moved as StateMoved {
                counters.add(\.stoppedByState)
                return UnitDecisions.stop(.skipped("the state moved on before the message left (now \(moved.phase?.rawValue ?? "none"))"))
            }
            if case .retryLater(_, _, false) = outcome { try await journal.clear(scope, key) }
            if outcome.wasSent { counters.add(\.messagesSent) }
            return UnitDecisions.afterSend(outcome, policy: send.onUncertain)

        case .watchPayment:
            guard let recordID = context.recordID else { return .next(.noRecord, sent: false) }
            _ = try await poller.watchPayment(
                WatchPayment(
                    userID: context.user.userID, chatID: context.user.chatID, recordID: recordID,
                    expiresInMs: max(1000, context.flow.watchFor.milliseconds), notifyExpired: true))
            return .next(.plain, sent: false)

        case .scheduleReminders:
            let cycle = context.cycle ?? 0
            for reminder in context.flow.reminders {
                let work = DueWork.reminder(step: reminder.step, cycle: cycle)
                _ = try await poller.schedule(
                    Schedule(
                        jobID: "reminder:\(context.user.userID):\(cycle):\(reminder.step)", kind: work.kind,
                        userID: context.user.userID, chatID: context.user.chatID, delayMs: reminder.delay.milliseconds,
                        payload: work.payload))
            }
            return .next(.plain, sent: false)

        case .cancelReminders:
            let reply = try await poller.cancel(Cancel(userID: context.user.userID, kind: "reminder"))
            return .next(.cancelled(count: reply.cancelled), sent: false)

        case .grantAccess:
            guard let door else { return .next(.plain, sent: false) }
            let source = context.recordID.map { "nocodb:\($0)" } ?? "payment"
            var record: PaymentRecord?
            if door.config.paidUntilField != nil || door.config.offerField != nil, let id = context.recordID {
                record = try await directory.paymentRecord(id)
            }
            // The offer paid for: the row's offer column, else the user's pick, else (the state
            // forgotten) the offer of their last grant; nil: the whole club.
            let before = try await door.ledger.entry(context.user.userID)
            var offer = AccessTerms.rowOffer(door.config, record: record) ?? context.base.topic(context.topic)?.id
            if offer == nil, context.base.choosesTopic {
                offer = before.offer
                if offer == nil {
                    logger.warning(
                        "a payment confirmed with no offer known (no pick, no offer column): it opens the whole club",
                        metadata: ["user": "\(context.user.userID)"])
                }
            }
            if door.config.isUnknown(offer: offer) {
                logger.warning(
                    "the payment's row names an offer the flow does not list: the grant opens no chat",
                    metadata: ["user": "\(context.user.userID)", "offer": "\(offer ?? "")"])
            }
            let (term, grantID) = AccessTerms.atConfirmation(
                door.config, record: record, nowMs: WallClock.epochMilliseconds(), unit: scope, offer: offer)
            let grant = try await door.ledger.grant(
                context.user.userID, source: source, grantID: grantID, term: term, offer: .set(offer))
            // A payment after an earlier grant (a period that lapsed, paid again) is a renewal.
            if grant.changed, before.grantID != nil, door.config.hasPeriods { door.count(\.renewals) }
            return .next(.granted(version: grant.version, untilMs: grant.untilMs, offer: offer ?? ""), sent: false)

        case .creditPayment:
            guard let id = context.recordID else { return .next(.noRecord, sent: false) }
            try await directory.credit(id)
            return .next(.plain, sent: false)

        case .schedulePeriod:
            guard let until = context.accessUntil else { return .next(.plain, sent: false) }
            try await schedulePeriod(of: context.user, untilMs: until, flow: context.flow)
            return .next(.plain, sent: false)

        case .renewFromRecord(let until):
            guard let door else { return UnitDecisions.stop(.skipped("no club configured")) }
            let entry = try await door.ledger.entry(context.user.userID)
            guard entry.entitled else { return UnitDecisions.stop(.skipped("access was taken away before")) }
            guard entry.expiresAtMs == until else {
                return UnitDecisions.stop(.skipped("a job of an earlier period (the period now ends at \(entry.expiresAtMs ?? 0))"))
            }
            var record: PaymentRecord?
            if let id = context.recordID { record = try await directory.paymentRecord(id) }
            // A renewal for another offer, when the row's offer column names one the flow lists;
            // else the offer stays.
            var named = AccessTerms.rowOffer(door.config, record: record)
            if let name = named, door.config.offers[name] == nil {
                if name != entry.offer {
                    logger.warning(
                        "the row names an offer the flow does not list: the renewal keeps the offer held",
                        metadata: ["user": "\(context.user.userID)", "offer": "\(name)"])
                }
                named = nil
            }
            let offer = named ?? entry.offer
            guard let renewal = AccessTerms.renewal(door.config, record: record, untilMs: until, unit: scope, offer: offer) else {
                return .next(.renewal(untilMs: nil), sent: false)
            }
            let source = context.recordID.map { "nocodb:\($0)" } ?? "payment"
            let grant = try await door.ledger.grant(
                context.user.userID, source: source, grantID: renewal.grantID, term: renewal.term,
                offer: named.map { .set($0) } ?? .keep)
            if grant.changed { door.count(\.renewals) }
            return .next(.renewal(untilMs: grant.untilMs ?? until, offer: offer ?? ""), sent: false)

        case .endAccess(let until):
            guard let door else { return .next(.door("ignored"), sent: false) }
            let user = context.user.userID
            if try await door.ledger.endPeriod(user, untilMs: until) {
                door.count(\.lapses)
            } else if try await door.ledger.entry(user).isEntitled(at: WallClock.epochMilliseconds()) {
                // Renewed or granted again between the check and now: nobody is shown out.
                return .next(.door("renewed meanwhile"), sent: false)
            }
            try await door.showOut(user)
            return .next(.door("ended"), sent: false)

        case .ifRenewed(let wanted, let inner):
            guard (context.renewedUntil != nil) == wanted else { return .next(.plain, sent: false) }
            return try await execute(inner, key: key, scope: scope, departBy: departBy, context: &context)

        case .issueInvites:
            guard let door else { return .next(.invites(links: []), sent: false) }
            let links = try await door.invites(for: context.user.userID)
            return .next(.invites(links: links), sent: false)

        case .answerJoinRequest(let request):
            guard let door else { return .next(.door("ignored"), sent: false) }
            let decision = try await door.answer(request)
            return .next(.door("\(decision)"), sent: false)

        case .checkMember(let change):
            guard let door else { return .next(.door("ignored"), sent: false) }
            let decision = try await door.check(change)
            return .next(.door("\(decision)"), sent: false)
        }
    }

    /// What a move of the user's state records beside the phase.
    func stateMetadata(_ context: Context) -> [String: String] {
        var metadata = ["chat_id": String(context.user.chatID), "first_name": context.user.firstName]
        if let id = context.recordID { metadata["record_id"] = String(id) }
        return metadata
    }

    /// The message with its placeholders filled and its keyboard.
    func render(_ send: FlowSend, _ context: Context) -> OutboundMessage {
        let flow = context.flow
        let topic = context.base.topic(context.topic)
        var values = [
            "first_name": context.user.firstName, "user_id": String(context.user.userID),
            // With a club the links are the door's (none: nothing opens for this user), never the
            // flow file's static link.
            "invite_link": door == nil && context.inviteLinks.isEmpty ? flow.inviteLink : context.inviteLinks.joined(separator: "\n"),
        ]
        values["record_id"] = context.recordID.map(String.init) ?? ""
        values["access_until"] = context.accessUntil.map(AccessTerms.shown) ?? ""
        values["topic"] = topic?.id ?? ""
        values["topic_title"] = topic?.title ?? ""
        values["payment_url"] = FlowTemplate.render(flow.paymentURL, values)
        let text = FlowTemplate.render(send.message.text, values)
        let keyboard: InlineKeyboardMarkup?
        switch send.keyboard {
        case .none: keyboard = nil
        case .getAccess: keyboard = InlineKeyboardMarkup([[.callback(flow.getAccessButton, data: FlowDefinition.getAccessData)]])
        case .pay: keyboard = flow.payButton.map { InlineKeyboardMarkup([[.link($0, url: values["payment_url"]!)]]) }
        case .topics:
            keyboard = InlineKeyboardMarkup(context.base.topics.map { [.callback($0.title, data: FlowDefinition.topicData($0.id))] })
        }
        let chat = context.user.chatID
        guard let media = send.message.media else { return .text(text, to: chat, keyboard: keyboard) }
        return OutboundMessage(chatID: chat, content: .media(media.kind, media.file, caption: text), keyboard: keyboard)
    }
}

/// Counters of the flow, for `stats`.
public final class FlowCounters: Sendable {
    public struct Values: Sendable, Equatable {
        public var messagesSent = 0
        /// Sends left uncertain (a request on the wire when a run stopped), sent again by their
        /// policy (`on_uncertain: resend`).
        /// Guarded sends (reminders) stopped because the user's state moved on while they waited.
        public var stoppedByState = 0
        public var uncertainResent = 0
        /// Such sends skipped by their policy (`on_uncertain: skip`).
        public var uncertainSkipped = 0
        public var uncertainSends: Int { uncertainResent + uncertainSkipped }
        public var recordsEnsured = 0
        /// Units answered "retry" because another runner held them.
        public var runningElsewhere = 0
    }
    private let values = Mutex(Values())

    public init() {}

    public var snapshot: Values { values.withLock { $0 } }

    func add(_ field: WritableKeyPath<Values, Int>) {
        values.withLock { $0[keyPath: field] += 1 }
    }
}

import Synchronization

/// A guarded send found the user's state moved on (thrown from before its departure: nothing sent).
struct StateMoved: Error {
    var phase: UserPhase?
}
