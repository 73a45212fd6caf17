import Foundation
import TollgateCore
import TollgateIPC
import TollgateSimulators

/// What a demo run did, counted from the outside (what the Telegram and NocoDB simulators saw),
/// plus the services' own counters and the cost of the chaos. ``problems`` lists every broken
/// promise: a user lost, a notification shown twice, a reminder after a payment, a 429.
struct DemoSummary: Sendable {
    struct Disturbance: Sendable {
        var unit: String
        var role: String
        var killedAtS: Double
        var oldPID: Int32
        var newPID: Int32?
        var readyAfterS: Double?
        var leaderBefore: String?
        var leaderAfter: String?
        var newLeaderAfterS: Double?
        var error: String?
    }

    let settings: DemoSettings
    var interrupted = false
    var elapsedS = 0.0
    var directory = ""

    // People (simulated mode).
    var users = 0, arrived = 0, welcomed = 0, linked = 0, paid = 0, neverPaid = 0, blocked = 0
    /// Payments made (a payer who came back after a lapse paid twice), each to be confirmed once.
    var payments = 0
    var confirmedOnce = 0, confirmationsMissing = 0, confirmedTwice = 0, welcomedTwice = 0, linkedTwice = 0
    var remindersSent = 0, remindersAfterPayment = 0, remindersTwice = 0, confirmationsUnpaid = 0
    var paymentLatency = Percentiles([])

    // What the simulators saw.
    var botMessages = 0, messagesByKind: [String: Int] = [:], telegram429s = 0, telegramMaxPerSecond = 0
    var telegram403s = 0, videoUploads = 0, videoSends = 0
    var nocodbRequests = 0, nocodbByOperation: [String: Int] = [:], nocodb429s = 0, nocodbMaxPerSecond = 0
    var rowsCreated = 0
    /// Bot API calls the simulator answered with an injected fault (`--telegram-fail-rate`).
    var telegramFaults = 0
    /// Per-user polling of every watched user while watched: every 60 s (seed 000) and every 3 s
    /// (Tollgate's delta cycle: the same freshness).
    var baselineEvery60s = 0, baselineEvery3s = 0

    // The club's door, counted from the simulator's club.
    var clubInside = 0, insideUnpaid = 0, payersOutside = 0, linksForwarded = 0, forwardedCaught = 0, forwardedJoined = 0
    var membershipLatency = Percentiles([])
    var reconcile: ReconcileReport?

    /// Access periods (the short ones), counted by the scenario and the Telegram simulator.
    struct Periods: Sendable {
        var shortPayers = 0, renewers = 0, lapsers = 0, returners = 0
        /// Ends moved before they came, and the bot's thanks for them.
        var renewals = 0, renewedMessages = 0
        /// Renewed (their period running), and yet shown out.
        var renewedButShownOut = 0
        /// Shown out at the end of their period, and told so; of them, who stayed out and who paid again and rejoined.
        var lapsedShownOut = 0, stayedOut = 0, cameBack = 0
        /// Whose period ended and who are still inside (also counted as inside without a payment).
        var lapsedStillInside = 0
        var renewalReminders = 0
    }
    var periods: Periods?

    /// `--broadcast`: the campaign's own figures and what the simulator's chats received.
    struct Broadcast: Sendable {
        var id: String?
        var startedAtS: Double?
        var state = "not created"
        var total = 0, sent = 0, suppressed = 0, uncertain = 0
        var receivedOnce = 0, twice = 0
        /// Recipients who got nothing and whom the campaign did not count as suppressed or uncertain.
        var missing = 0
        var seconds: Double?

        init(campaign: BroadcastSummary?, startedAtS: Double?, telegram: TelegramSimulator, scenario: DemoScenario) {
            self.startedAtS = startedAtS
            guard let campaign else { return }
            id = campaign.id
            state = campaign.state
            total = campaign.total
            sent = campaign.sent
            suppressed = campaign.suppressed
            uncertain = campaign.uncertain
            if let first = campaign.firstSentAtMs, let last = campaign.lastSentAtMs { seconds = Double(last.saturatingMinus(first)) / 1000 }
            var received = 0
            for person in scenario.people {
                let n = telegram.sent(to: person.user.id).filter(DemoScenario.Recognise.isBroadcast).count
                if n >= 1 { received += 1 }
                if n == 1 { receivedOnce += 1 }
                if n > 1 { twice += 1 }
            }
            // Figures from the gateway's reply: no arithmetic on them may trap.
            missing = max(0, total.saturatingMinus(received).saturatingMinus(suppressed).saturatingMinus(uncertain))
        }
    }
    var broadcast: Broadcast?

    var services = DemoProbe.Snapshot()
    var disturbances: [Disturbance] = []
    var peakRSSMiB: [String: Double] = [:]
    var problems: [String] = []

    init(settings: DemoSettings) {
        self.settings = settings
    }

    mutating func collect(scenario: DemoScenario, telegram: TelegramSimulator, nocodb: NocoDBSimulator, simStart: Double) {
        typealias R = DemoScenario.Recognise
        let end = telegram.clock
        users = scenario.people.count
        var latencies: [Double] = []
        for person in scenario.people {
            let sent = telegram.sent(to: person.user.id)
            if person.step != .waiting { arrived += 1 }
            let welcomes = sent.filter(R.isWelcome).count
            let links = sent.filter(R.isPaymentLink)
            let reminders = sent.filter(R.isReminder)
            let confirmations = sent.filter(R.isConfirmation)
            if welcomes > 0 { welcomed += 1 }
            if welcomes > 1 { welcomedTwice += 1 }
            if !links.isEmpty { linked += 1 }
            if links.count > 1 { linkedTwice += 1 }
            remindersSent += reminders.count
            if reminders.count > 1 { remindersTwice += 1 }
            switch person.step {
            case .paid:
                paid += 1
                // Each payment confirmed once: the n-th confirmation answers the n-th payment.
                let made = person.payments
                payments += made
                let missing = max(0, made - confirmations.count)
                let repeated = min(made, max(0, confirmations.count - made))
                confirmationsMissing += missing
                confirmedTwice += repeated
                confirmedOnce += made - missing - repeated
                for (k, paidAt) in [person.paidAtSim, person.repaidAtSim].compactMap({ $0 }).enumerated()
                where k < confirmations.count {
                    latencies.append(confirmations[k].at - paidAt)
                }
                if let first = confirmations.first, reminders.contains(where: { $0.at > first.at }) { remindersAfterPayment += 1 }
            case .blocked: blocked += 1
            default:
                neverPaid += 1
                if !confirmations.isEmpty { confirmationsUnpaid += 1 }
            }
            // What per-user polling would have cost for this user: from the link until the
            // confirmation (or the end of the run).
            if let link = links.first {
                let watched = max(0, (confirmations.first?.at ?? end) - link.at)
                baselineEvery60s += Int((watched / 60).rounded(.up))
                baselineEvery3s += Int((watched / 3).rounded(.up))
            }
            for message in sent {
                let kind =
                    R.isWelcome(message) ? "welcome"
                    : R.isPaymentLink(message) ? "payment_link"
                    : R.isReminder(message) ? "reminder"
                    : R.isConfirmation(message) ? "confirmation"
                    : R.isRenewalReminder(message) ? "renewal_reminder"
                    : R.isRenewed(message) ? "renewed"
                    : R.isLapsed(message) ? "lapsed"
                    : R.isBroadcast(message) ? "broadcast" : "other"
                messagesByKind[kind, default: 0] += 1
            }
            videoSends += reminders.count
        }
        paymentLatency = Percentiles(latencies)
        if let club = scenario.club, let state = telegram.clubState(club) {
            let inside = Set(state.members.filter { $0.value == "member" }.keys)
            // Entitled now: paid, and the end the row says (with periods) still ahead.
            let nowMs = DemoScenario.wallMs()
            let payers = Set(scenario.people.filter { $0.entitled(atMs: nowMs) }.map(\.user.id))
            clubInside = inside.count
            insideUnpaid = inside.subtracting(payers).count
            payersOutside = payers.subtracting(inside).count
            let forwarded = scenario.people.filter { $0.sharesLink && $0.friendResult != nil }
            linksForwarded = forwarded.count
            forwardedCaught = forwarded.filter { !inside.contains($0.friend.id) }.count
            forwardedJoined = forwarded.filter { $0.friendResult == "joined" }.count
            // Each payment to the membership it opened (a payer who came back: the rejoin too).
            membershipLatency = Percentiles(
                scenario.people.flatMap { p in
                    [(p.paidAtSim, p.joinedAtSim), (p.repaidAtSim, p.rejoinedAtSim)].compactMap { paidAt, joinedAt in
                        paidAt.flatMap { a in joinedAt.map { $0 - a } }
                    }
                })
            if scenario.period != nil {
                var v = Periods()
                for p in scenario.people {
                    guard let fate = p.periodFate else { continue }
                    let sent = telegram.sent(to: p.user.id)
                    v.shortPayers += 1
                    v.renewalReminders += sent.filter(R.isRenewalReminder).count
                    v.renewals += p.renewals
                    v.renewedMessages += sent.filter(R.isRenewed).count
                    if p.renewals > 0 { v.renewers += 1 }
                    if p.lapses > 0 { v.lapsedShownOut += 1 }
                    switch fate {
                    case .renews: if p.lapses > 0 { v.renewedButShownOut += 1 }
                    case .lapses: v.lapsers += 1
                    case .returns: v.returners += 1
                    }
                    if p.lapses > 0 && p.repaidAtSim == nil && !inside.contains(p.user.id) { v.stayedOut += 1 }
                    if p.rejoinedAtSim != nil && inside.contains(p.user.id) { v.cameBack += 1 }
                    if !p.entitled(atMs: nowMs) && inside.contains(p.user.id) { v.lapsedStillInside += 1 }
                }
                periods = v
            }
        }
        let counters = telegram.counters
        botMessages = counters.messagesAccepted
        telegram429s = counters.floodRefusals
        telegramMaxPerSecond = counters.maxMessagesInOneSecond
        telegram403s = counters.forbidden
        videoUploads = counters.uploads
        let stats = nocodb.stats()
        nocodbRequests = stats.requests
        nocodbByOperation = stats.byOperation
        nocodb429s = stats.throttled
        nocodbMaxPerSecond = stats.maxPerSlidingWindow
        rowsCreated = nocodb.rowCount(table: "users")
    }

    /// Fills ``problems`` with every broken promise.
    mutating func evaluate() {
        var p: [String] = []
        if interrupted { p.append("interrupted before the end") }
        for d in disturbances where d.readyAfterS == nil { p.append("\(d.unit) did not come back after the kill: \(d.error ?? "")") }
        if settings.real {
            if (services.gateway["telegram_rate_limited_total"] ?? 0) > 0 { p.append("Telegram answered 429") }
            problems = p
            return
        }
        if arrived < users { p.append("\(users - arrived) users never arrived (run cut short)") }
        if welcomed < arrived { p.append("\(arrived - welcomed) users got no welcome") }
        if linked < arrived { p.append("\(arrived - linked) users got no payment link") }
        if confirmationsMissing > 0 { p.append("\(confirmationsMissing) payments were never confirmed") }
        if let v = periods {
            if v.renewedButShownOut > 0 { p.append("\(v.renewedButShownOut) members who renewed in time were shown out") }
            if v.renewedMessages < v.renewals { p.append("\(v.renewals - v.renewedMessages) renewals were never acknowledged by the bot") }
            if v.lapsedStillInside > 0 { p.append("\(v.lapsedStillInside) members whose period ended are still inside") }
        }
        // A reply left uncertain by a kill (its request on the wire) is sent again: a repeat is a
        // broken promise only beyond the uncertain sends the gateway counted.
        let uncertain = Int(services.gateway["flow_uncertain_sends_total"] ?? 0)
        let repeats = confirmedTwice + welcomedTwice + linkedTwice
        if repeats > uncertain {
            p.append(
                "\(repeats) repeated replies (\(welcomedTwice) welcomes, \(linkedTwice) payment links, \(confirmedTwice) confirmations) for \(uncertain) uncertain sends")
        }
        if remindersTwice > 0 { p.append("\(remindersTwice) users got the reminder twice") }
        if remindersAfterPayment > 0 { p.append("\(remindersAfterPayment) users got a reminder after their confirmation") }
        if confirmationsUnpaid > 0 { p.append("\(confirmationsUnpaid) users who did not pay were confirmed") }
        if telegram429s > 0 { p.append("Telegram answered 429 \(telegram429s) times") }
        if nocodb429s > 0 { p.append("NocoDB answered 429 \(nocodb429s) times") }
        if settings.club {
            if insideUnpaid > 0 { p.append("\(insideUnpaid) people are inside the club without a payment in force") }
            if payersOutside > 0 { p.append("\(payersOutside) payers with a payment in force are not inside the club") }
            if forwardedCaught < linksForwarded {
                p.append("\(linksForwarded - forwardedCaught) friends who used a forwarded link stayed inside")
            }
            if let r = reconcile {
                // Drift the door left behind; a user Telegram would not answer about (a 5xx storm)
                // is reported, not a broken promise.
                if r.removed + r.reinvited > 0 {
                    p.append("the final reconciliation found drift: \(r.removed) removed, \(r.reinvited) re-invited")
                }
            } else if !interrupted {
                p.append("the final reconciliation got no answer")
            }
        }
        if nocodbMaxPerSecond > 5 { p.append("NocoDB saw \(nocodbMaxPerSecond) requests in one sliding second (limit 5)") }
        if let b = broadcast {
            if b.id == nil { p.append("the campaign (--broadcast) was never created") }
            if b.state != "done" && b.id != nil { p.append("the campaign is \(b.state), not done") }
            if b.twice > 0 { p.append("\(b.twice) people got the campaign twice") }
            if b.missing > 0 { p.append("\(b.missing) recipients of the campaign got nothing (neither suppressed nor uncertain)") }
        }
        problems = p
    }

    // MARK: Output

    func lines() -> [String] {
        var out: [String] = []
        func row(_ label: String, _ text: String) { out.append(label.padding(toLength: 14, withPad: " ", startingAt: 0) + text) }
        func n(_ v: Int) -> String { v.formatted(.number.grouping(.automatic)) }
        func f(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }
        out.append("")
        out.append("== Summary (\(f(elapsedS, 0)) s\(interrupted ? ", interrupted" : ""))")
        if settings.real {
            let g = services.gateway, s = services.pollers
            row("Updates", "\(n(Int(g["updates_handled_total"] ?? 0))) handled")
            row("Messages", "\(n(Int(g["telegram_messages_sent_total"] ?? 0))) sent, \(n(Int(g["telegram_sends_skipped_suppressed_total"] ?? 0))) skipped for blocked users")
            row("Payments", "\(n(Int(s["payments_confirmed_total"] ?? 0))) confirmed")
            row("NocoDB", "\(n(Int((g["nocodb_requests_total"] ?? 0) + (s["nocodb_requests_total"] ?? 0)))) requests")
            row("429s", "Telegram \(Int(g["telegram_rate_limited_total"] ?? 0)) · NocoDB \(Int((g["nocodb_429_total"] ?? 0) + (s["nocodb_429_total"] ?? 0)))")
        } else {
            row("Users", "\(n(users)): \(n(arrived)) sent /start, \(n(linked)) got a payment link; \(n(paid)) paid, \(n(neverPaid)) never paid, \(n(blocked)) blocked the bot")
            let kinds = ["welcome", "payment_link", "reminder", "confirmation", "renewal_reminder", "renewed", "lapsed", "broadcast", "other"].compactMap { k in
                messagesByKind[k].map { "\(k.replacingOccurrences(of: "_", with: " ")) \(n($0))" }
            }
            row("Messages", "\(n(botMessages)) sent by the bot (\(kinds.joined(separator: ", "))); at most \(telegramMaxPerSecond) in any 1 s window (Telegram: 30/s, small bursts tolerated)")
            row(
                "Payments",
                "\(n(confirmedOnce)) of \(n(payments)) confirmed exactly once (\(confirmationsMissing) missing, \(confirmedTwice) twice)"
                    + (payments > paid ? "; \(n(payments - paid)) of them paid again after a lapse" : ""))
            if paymentLatency.count > 0 {
                row("", "payment → confirmation: p50 \(f(paymentLatency.p50)) s, p99 \(f(paymentLatency.p99)) s, max \(f(paymentLatency.max)) s")
            }
            if settings.club {
                row("Club", "\(n(clubInside)) inside: \(insideUnpaid) without a payment\(periods == nil ? "" : " in force"), \(payersOutside) payers outside; \(forwardedCaught) of \(linksForwarded) forwarded links caught (\(forwardedJoined) friends got in with one)")
                if membershipLatency.count > 0 {
                    row("", "payment → membership: p50 \(f(membershipLatency.p50)) s, p99 \(f(membershipLatency.p99)) s, max \(f(membershipLatency.max)) s (the payer joins as the link arrives)")
                }
                if let r = reconcile {
                    row("", "final reconciliation: \(r.scanned) in the ledger, \(r.checked) getChatMember calls, \(r.removed) removed, \(r.reinvited) re-invited, \(r.errors) unchecked, \(r.finishedAtMs - r.startedAtMs) ms")
                }
                if let v = periods, let period = settings.accessPeriod {
                    row(
                        "Periods",
                        "\(v.shortPayers) payers on a \(f(period, 0)) s period (the others' end 30 days ahead): \(v.renewers) of \(v.shortPayers - v.lapsers - v.returners) renewed (\(v.renewals) renewals, \(v.renewedMessages) thanked, \(v.renewalReminders) reminders), \(v.renewedButShownOut) of them shown out")
                    row(
                        "",
                        "\(v.lapsedShownOut) lapsed and were shown out (\(v.lapsers + v.returners) meant to): \(v.stayedOut) stayed out, \(v.cameBack) came back with a new link (\(v.returners) meant to); \(v.lapsedStillInside) inside after their end")
                    let g = services.gateway
                    row(
                        "",
                        "the gateway counted \(Int(g["club_renewals_total"] ?? 0)) renewals (comebacks included), \(Int(g["club_lapses_total"] ?? 0)) lapses, \(Int(g["club_members_removed_lapsed_total"] ?? 0)) removals at a lapse, \(Int(g["club_members_removed_unentitled_total"] ?? 0)) of people without a right")
                }
            }
            row("Reminders", "\(n(remindersSent)) sent (a video: uploaded \(videoUploads)×, then by file_id), \(remindersAfterPayment) after a payment; \(telegram403s) sends refused by users who blocked the bot, then suppressed")
            let baselineRatio = nocodbRequests > 0 ? Double(baselineEvery3s) / Double(nocodbRequests) : 0
            row("NocoDB", "\(n(nocodbRequests)) requests (most in any 1 s: \(nocodbMaxPerSecond), limit 5), \(n(rowsCreated)) rows created")
            row("", "per-user polling would have made \(n(baselineEvery60s)) checking every 60 s (seed 000), \(n(baselineEvery3s)) at the same freshness (every 3 s): \(f(baselineRatio))× Tollgate's")
            row("429s", "Telegram \(telegram429s) · NocoDB \(nocodb429s)")
            if telegramFaults > 0 {
                row("5xx", "\(n(telegramFaults)) Bot API calls answered 5xx by the simulator; \(n(Int(services.gateway["telegram_transient_retries_total"] ?? 0))) sends tried again after one")
            }
        }
        if let b = broadcast {
            if let id = b.id {
                let time = b.seconds.map { " in \(f($0)) s" } ?? ""
                row(
                    "Broadcast",
                    "campaign \(id) at \(f(b.startedAtS ?? 0)) s to \(b.total) (\(b.state)): \(b.sent) sent\(time), \(b.suppressed) suppressed, \(b.uncertain) uncertain (skipped); received once \(b.receivedOnce), twice \(b.twice), missing \(b.missing)")
            } else {
                row("Broadcast", "the campaign was never created")
            }
        }
        let g = services.gateway
        row(
            "Uncertain",
            "\(Int(g["telegram_sends_uncertain_total"] ?? 0)) sends whose answer was lost; \(Int(g["flow_uncertain_sends_total"] ?? 0)) left uncertain by a stop: \(Int(g["flow_uncertain_resent_total"] ?? 0)) resent, \(Int(g["flow_uncertain_skipped_total"] ?? 0)) skipped (on_uncertain)")
        if disturbances.isEmpty {
            row("Restarts", "none (--chaos kills the gateway and the leading poller midway)")
        } else {
            for (i, d) in disturbances.enumerated() {
                var text = "kill -9 \(d.unit) (\(d.role)) at \(f(d.killedAtS)) s → "
                text += d.readyAfterS.map { "ready again after \(f($0)) s (RestartSec 1 s)" } ?? "did not come back"
                if let after = d.newLeaderAfterS { text += "; \(d.leaderAfter ?? "?") leads after \(f(after)) s" }
                row(i == 0 ? "Restarts" : "", text)
            }
            let replayed = Int(services.gateway["updates_replayed_total"] ?? 0)
            let recovered = Int(services.pollers["leases_recovered_total"] ?? 0)
            row("", "cost: \(replayed) updates replayed from the gateway's journal, \(recovered) leased jobs recovered; nothing lost, nothing twice" + (problems.isEmpty ? "" : " — except as listed below"))
        }
        let rss = peakRSSMiB.sorted { $0.key < $1.key }.map { "\($0.key) \(f($0.value)) MiB" }
        if !rss.isEmpty { row("Peak RSS", rss.joined(separator: ", ")) }
        row("Logs", directory)
        if problems.isEmpty {
            out.append("OK: every promise kept.")
        } else {
            out.append("PROBLEMS:")
            out += problems.map { "  - \($0)" }
        }
        return out
    }

    func jsonLine() throws -> [UInt8] {
        func num(_ v: Int) -> JSONValue { .number(Double(v)) }
        func r(_ v: Double) -> JSONValue { .number((v * 100).rounded() / 100) }
        var o: [String: JSONValue] = [
            "mode": .string(settings.real ? "real" : "simulated"), "polling_mode": .string(settings.mode),
            "pollers": num(settings.pollers), "chaos": .bool(settings.chaos), "webhook": .bool(settings.webhook),
            "telegram_fail_rate": .number(settings.telegramFailRate), "elapsed_s": r(elapsedS),
            "interrupted": .bool(interrupted), "directory": .string(directory),
            "problems": .array(problems.map { .string($0) }),
            "peak_rss_mib": .object(peakRSSMiB.mapValues { r($0) }),
            "gateway_counters": .object(services.gateway.mapValues { .number($0) }),
            "poller_counters": .object(services.pollers.mapValues { .number($0) }),
        ]
        if !settings.real {
            o["users"] = .object([
                "total": num(users), "arrived": num(arrived), "welcomed": num(welcomed), "linked": num(linked),
                "paid": num(paid), "never_paid": num(neverPaid), "blocked": num(blocked),
            ])
            o["payments"] = .object([
                "expected": num(payments), "confirmed_once": num(confirmedOnce), "missing": num(confirmationsMissing),
                "twice": num(confirmedTwice),
                "latency_s": paymentLatency.count > 0 ? paymentLatency.json(digits: 2) : .null,
            ])
            o["messages"] = .object([
                "total": num(botMessages), "by_kind": .object(messagesByKind.mapValues(num)),
                "max_in_any_second": num(telegramMaxPerSecond), "welcomed_twice": num(welcomedTwice), "linked_twice": num(linkedTwice),
            ])
            o["reminders"] = .object([
                "sent": num(remindersSent), "after_payment": num(remindersAfterPayment), "twice": num(remindersTwice),
                "video_uploads": num(videoUploads), "refused_403": num(telegram403s),
            ])
            o["nocodb"] = .object([
                "requests": num(nocodbRequests), "by_operation": .object(nocodbByOperation.mapValues(num)),
                "max_in_any_second": num(nocodbMaxPerSecond), "rows_created": num(rowsCreated),
                "per_user_baseline_60s": num(baselineEvery60s), "per_user_baseline_3s": num(baselineEvery3s),
            ])
            o["http_429"] = .object(["telegram": num(telegram429s), "nocodb": num(nocodb429s)])
            if settings.club {
                o["club"] = .object([
                    "inside": num(clubInside), "inside_unpaid": num(insideUnpaid), "payers_outside": num(payersOutside),
                    "links_forwarded": num(linksForwarded), "forwarded_caught": num(forwardedCaught),
                    "forwarded_joined": num(forwardedJoined),
                    "removed": num(Int(services.gateway["club_members_removed_unentitled_total"] ?? 0)),
                    "renewals": num(Int(services.gateway["club_renewals_total"] ?? 0)),
                    "membership_latency_s": membershipLatency.count > 0 ? membershipLatency.json(digits: 2) : .null,
                    "reconcile": reconcile.map { r in
                        .object(["scanned": num(r.scanned), "removed": num(r.removed), "reinvited": num(r.reinvited), "errors": num(r.errors)])
                    } ?? .null,
                ])
            }
            if let v = periods {
                let g = services.gateway
                o["periods"] = .object([
                    "access_period_s": .number(settings.accessPeriod ?? 0), "short_period_payers": num(v.shortPayers),
                    "meant_to_renew": num(v.shortPayers - v.lapsers - v.returners), "renewers": num(v.renewers),
                    "renewals": num(v.renewals), "renewed_messages": num(v.renewedMessages), "renewal_reminders": num(v.renewalReminders),
                    "renewed_but_shown_out": num(v.renewedButShownOut),
                    "meant_to_lapse": num(v.lapsers), "meant_to_return": num(v.returners),
                    "lapsed_shown_out": num(v.lapsedShownOut), "stayed_out": num(v.stayedOut), "came_back": num(v.cameBack),
                    "lapsed_still_inside": num(v.lapsedStillInside),
                    "gateway_renewals": num(Int(g["club_renewals_total"] ?? 0)), "gateway_lapses": num(Int(g["club_lapses_total"] ?? 0)),
                    "gateway_removed_lapsed": num(Int(g["club_members_removed_lapsed_total"] ?? 0)),
                ])
            }
            o["telegram_faults_injected"] = num(telegramFaults)
            if let b = broadcast {
                o["broadcast"] = .object([
                    "id": b.id.map(JSONValue.string) ?? .null, "state": .string(b.state), "started_at_s": r(b.startedAtS ?? 0),
                    "total": num(b.total), "sent": num(b.sent), "suppressed": num(b.suppressed), "uncertain": num(b.uncertain),
                    "received_once": num(b.receivedOnce), "twice": num(b.twice), "missing": num(b.missing),
                    "seconds": b.seconds.map { r($0) } ?? .null,
                ])
            }
        }
        o["restarts"] = .array(
            disturbances.map { d in
                .object([
                    "unit": .string(d.unit), "role": .string(d.role), "killed_at_s": r(d.killedAtS),
                    "ready_after_s": d.readyAfterS.map(r) ?? .null, "new_leader_after_s": d.newLeaderAfterS.map(r) ?? .null,
                ])
            })
        return try IPCCoding.encode(JSONValue.object(o))
    }
}
