import Foundation
import TollgateSimulators

/// The sandbox's simulated people: each arrives at a random time, sends /start, presses "Get
/// access" once the welcome is there, and then pays at a random moment, never pays, or blocks the
/// bot. The scenario acts only through the simulators — Telegram messages and button presses, and
/// the user's NocoDB row turning Paid, as a payment system would do it — and reads what the bot
/// sent from the Telegram simulator, never from the services.
///
/// With access periods the payment also writes the row's expiry column (``paidUntilField``): a
/// share of payers (``periodShare``) get a short period and renew it, let it lapse, or let it
/// lapse and pay again; everyone else's end lies 30 days ahead (``longPeriodMs``).
struct DemoScenario {
    enum Fate: String, Sendable {
        case pays, neverPays = "never_pays", blocks
    }

    /// What a payer with a short period does with it.
    enum PeriodFate: String, Sendable, CaseIterable {
        /// Renews before the end (after the renewal reminder), one period at a time while the run
        /// goes on, and for 30 days at the first renewal after it.
        case renews
        /// Lets it lapse and stays out.
        case lapses
        /// Lets it lapse, is shown out, then pays again (for 30 days) and rejoins with a new link.
        case returns
    }

    /// The share of payers given the short period by default. Kept small on purpose: every
    /// period's reminder and lapse reads the row, and NocoDB allows 5 requests a second — with
    /// every payer on a short period the reads queue up, lapses come late and the next
    /// period's reminders fall in the past.
    static let periodShare = 0.15
    /// The end of everyone else's period: far beyond the run.
    static let longPeriodMs: Int64 = 30 * 86_400_000
    /// The expiry column the demo's services read (`NOCODB_PAID_UNTIL_FIELD`).
    static let paidUntilField = "PaidUntil"

    static func wallMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// What the bot's messages look like in the demo's flow file (see ``DemoCommand/flowYAML``).
    enum Recognise {
        static func isWelcome(_ m: SimSentMessage) -> Bool { m.callbackData.contains("get_access") }
        static func isPaymentLink(_ m: SimSentMessage) -> Bool { m.text?.contains("complete the payment") == true }
        static func isReminder(_ m: SimSentMessage) -> Bool { m.mediaKind == "video" }
        static func isConfirmation(_ m: SimSentMessage) -> Bool { m.text?.hasPrefix("Payment received") == true }
        static func isRenewalReminder(_ m: SimSentMessage) -> Bool { m.text?.hasPrefix("Your access ends on") == true }
        /// The campaign of `--broadcast`.
        static let broadcastText = "Club news for {first_name}: the summer session opens on Monday."
        static func isBroadcast(_ m: SimSentMessage) -> Bool { m.text?.hasPrefix("Club news for ") == true }
        static func isRenewed(_ m: SimSentMessage) -> Bool { m.text?.hasPrefix("Thank you, your access is renewed") == true }
        static func isLapsed(_ m: SimSentMessage) -> Bool { m.text?.hasPrefix("Your access to the club has ended") == true }
        /// The club's invite links in the bot's messages to someone, in order.
        static func inviteLinks(_ sent: [SimSentMessage]) -> [String] {
            sent.flatMap { ($0.text ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }) }.map(String.init)
                .filter { $0.hasPrefix("https://t.me/+") }
        }
    }

    /// Where a payer stands at the club's door.
    enum Door: Sendable, Equatable {
        case outside
        /// Forwarded their link to a friend (who used it), asked the bot again with /status.
        case waitingForNewLink(String)
        case inside
        /// Their period ended: shown out of the club and told so.
        case lapsed
        /// Paid again after a lapse; waiting for a personal link other than the ones in `seen`.
        case returning(seen: Set<String>)

        var label: String {
            switch self {
            case .outside: "outside"
            case .waitingForNewLink: "waiting for a new link"
            case .inside: "inside"
            case .lapsed: "shown out at the end of the period"
            case .returning: "paid again, waiting for a new link"
            }
        }
    }

    struct Person: Sendable {
        enum Step: Sendable { case waiting, startSent, pressed, linked, paid, blocked }
        let user: SimUser
        let fate: Fate
        /// Seconds after the scenario's start.
        let arrival: Double
        /// Seconds after the payment link arrived (pays: paying; blocks: blocking).
        let actAfter: Double
        var step: Step = .waiting
        /// Forwards their personal link to a friend (``friend``) before using it.
        let sharesLink: Bool
        let friend: SimUser
        var door: Door = .outside
        /// Simulator clock when they joined the club.
        var joinedAtSim: Double?
        /// What the friend's attempt with the forwarded link gave (`joined`, `refused: …`).
        var friendResult: String?
        /// Simulator clock of their last /status (asked again after a while without a new link).
        var askedAtSim: Double?
        var linkAt: Double?
        /// Simulator clock when the row turned Paid.
        var paidAtSim: Double?

        // Access periods.
        /// Nil: no short period (the end 30 days ahead, or no periods at all).
        var periodFate: PeriodFate?
        /// Seconds after the renewal reminder before renewing (renews).
        var renewDelay = 0.0
        /// Seconds after being shown out before paying again (returns).
        var returnAfter = 0.0
        /// The end of the period the scenario last wrote in the row (Unix ms); nil: no periods.
        var paidUntilMs: Int64?
        /// Times the row was paid (the first payment, and again after a lapse): each one is confirmed once.
        var payments = 0
        /// Times the end was moved before it came.
        var renewals = 0
        /// The renewal that moved the end 30 days ahead (the run is over).
        var renewedForGood = false
        /// Simulator clock of the last renewal.
        var renewedAtSim: Double?
        /// Times they were shown out after their period ended.
        var lapses = 0
        var lapsedAtSim: Double?
        /// Simulator clock of the payment after the lapse, and of the join with the new link.
        var repaidAtSim: Double?
        var rejoinedAtSim: Double?
        /// What they did, by the simulator's clock (for the run's `people.log`).
        var events: [(at: Double, what: String)] = []
        /// Entitled now by what the row says: paid, and the end (if any) ahead.
        func entitled(atMs now: Int64) -> Bool { step == .paid && (paidUntilMs.map { $0 > now } ?? true) }
    }

    var people: [Person]

    /// `users` people arriving during the first 40 % of `duration`; `payShare` of them pay within
    /// the next half of it (some before the reminder, some after), `blockShare` block the bot
    /// before the reminder is due, the rest never pay.
    /// The club the payers join (nil: no club's door).
    let club: Int64?
    /// The short access period in seconds (nil: no periods).
    let period: Double?
    /// Until when the short periods go on being renewed one at a time (seconds after the start).
    let duration: Double

    init(
        users: Int, duration: Double, reminderDelay: Double, payShare: Double, blockShare: Double, shareShare: Double = 0,
        club: Int64? = nil, accessPeriod: Double? = nil, periodShare: Double = 0, seed: UInt64
    ) {
        self.club = club
        self.period = club == nil ? nil : accessPeriod
        self.duration = duration
        var rng = SplitMix64(seed: seed)
        let payers = Int((Double(users) * payShare).rounded())
        let blockers = min(users - payers, Int((Double(users) * blockShare).rounded()))
        var fates = Array(repeating: Fate.pays, count: payers) + Array(repeating: Fate.blocks, count: blockers)
        fates += Array(repeating: Fate.neverPays, count: users - payers - blockers)
        fates.shuffle(using: &rng)
        let names = ["Ada", "Boris", "Chloe", "Dmitri", "Esme", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Luca"]
        people = fates.enumerated().map { i, fate in
            let arrival = Double.random(in: 0...(duration * 0.4), using: &rng)
            let actAfter: Double =
                switch fate {
                case .pays: Double.random(in: 2...max(3, duration * 0.5), using: &rng)
                case .blocks: Double.random(in: 1...max(1.5, reminderDelay * 0.8), using: &rng)
                case .neverPays: 0
                }
            let user = SimUser(id: Int64(5_100_000 + i), firstName: names[i % names.count], username: "demo_user_\(i)")
            let shares = club != nil && fate == .pays && Double.random(in: 0..<1, using: &rng) < shareShare
            let friend = SimUser(id: Int64(5_900_000 + i), firstName: "Friend of \(names[i % names.count])")
            return Person(user: user, fate: fate, arrival: arrival, actAfter: actAfter, sharesLink: shares, friend: friend)
        }
        // The short periods, drawn apart so that a seed gives the same people with or without them:
        // among payers who keep their link (a forwarded link is a story of its own), a share,
        // split 40 % renewing, 30 % lapsing, the rest lapsing and coming back.
        guard let period = self.period else { return }
        var draw = SplitMix64(seed: seed ^ 0x5045_5249_4F44_5321)
        var candidates = people.indices.filter { people[$0].fate == .pays && !people[$0].sharesLink }
        candidates.shuffle(using: &draw)
        let short = Array(candidates.prefix(Int((Double(candidates.count) * periodShare).rounded())))
        let renewing = Int((Double(short.count) * 0.4).rounded())
        let lapsing = min(short.count - renewing, Int((Double(short.count) * 0.3).rounded()))
        for (k, i) in short.enumerated() {
            people[i].periodFate = k < renewing ? .renews : k < renewing + lapsing ? .lapses : .returns
            people[i].renewDelay = Double.random(in: 1...max(1.5, period * 0.25), using: &draw)
            people[i].returnAfter = Double.random(in: 2...max(3, period * 0.5), using: &draw)
        }
    }

    /// Everyone the simulator needs to know: the people and the friends links are forwarded to.
    var simulatedUsers: [SimUser] { people.map(\.user) + people.filter(\.sharesLink).map(\.friend) }

    /// A payer at the club's door, once their confirmation (with their personal link) is there:
    /// they join at once — or first forward the link to a friend, who uses it, and ask the bot
    /// again with /status for a new one of their own.
    mutating func walkIn(_ i: Int, club: Int64, telegram: TelegramSimulator) {
        let person = people[i]
        let sent = telegram.sent(to: person.user.id)
        let links = Recognise.inviteLinks(sent)
        // Shown out at the end of a period (told so, and no longer a member): whatever they were doing.
        if period != nil, sent.filter(Recognise.isLapsed).count > person.lapses,
            telegram.clubState(club)?.members[person.user.id] != "member"
        {
            switch person.door {
            case .inside, .outside, .waitingForNewLink:
                people[i].door = .lapsed
                people[i].events.append((telegram.clock, "shown out at the end of the period"))
                people[i].lapses += 1
                people[i].lapsedAtSim = telegram.clock
                return
            case .lapsed, .returning: break
            }
        }
        switch person.door {
        case .outside:
            guard telegram.sent(to: person.user.id).contains(where: Recognise.isConfirmation), let link = links.first else { return }
            if person.sharesLink {
                switch telegram.join(person.friend.id, club: club, link: link) {
                case .joined: people[i].friendResult = "joined"
                case .requested: people[i].friendResult = "requested"
                case .refused(let why): people[i].friendResult = "refused: \(why)"
                }
                telegram.userSends("/status", from: person.user)
                people[i].askedAtSim = telegram.clock
                people[i].door = .waitingForNewLink(link)
                people[i].events.append((telegram.clock, "forwarded \(link) to \(person.friend.id): \(people[i].friendResult ?? "")"))
            } else if telegram.join(person.user.id, club: club, link: link) == .joined {
                people[i].door = .inside
                people[i].joinedAtSim = telegram.clock
                people[i].events.append((telegram.clock, "joined with \(link)"))
            }
        case .waitingForNewLink(let old):
            guard let link = links.last, link != old else {
                // The answer came before the friend was shown out (the same link): ask again, once
                // it is there (a busy bot answers late; asking meanwhile only queues more /status).
                let asked = person.askedAtSim ?? 0
                let answered = sent.last.map { $0.at > asked } ?? false
                if (answered && telegram.clock - asked > 3) || telegram.clock - asked > 20 {
                    telegram.userSends("/status", from: person.user)
                    people[i].askedAtSim = telegram.clock
                }
                return
            }
            if telegram.join(person.user.id, club: club, link: link) == .joined {
                people[i].door = .inside
                people[i].joinedAtSim = telegram.clock
            }
        case .returning(let seen):
            // The confirmation of the new payment brings a new personal link.
            guard sent.filter(Recognise.isConfirmation).count >= person.payments,
                let link = links.last(where: { !seen.contains($0) })
            else { return }
            if telegram.join(person.user.id, club: club, link: link) == .joined {
                people[i].door = .inside
                people[i].rejoinedAtSim = telegram.clock
                people[i].events.append((telegram.clock, "joined again with \(link)"))
            }
        case .inside, .lapsed:
            break
        }
    }

    /// A payer with a short period, along it: renewing once reminded (before the end), or paying
    /// again a while after being shown out. `now` is seconds since the scenario started.
    mutating func livePeriod(_ i: Int, now: Double, telegram: TelegramSimulator, nocodb: NocoDBSimulator, rows: inout DemoRowIndex) {
        let person = people[i]
        guard let period, let fate = person.periodFate, let until = person.paidUntilMs else { return }
        let nowMs = Self.wallMs()
        switch fate {
        case .renews:
            guard !person.renewedForGood, person.door == .inside || person.door == .outside, nowMs < until - 1000 else { return }
            // Once reminded of this period's end (a while after the reminder), or on their own
            // when it is close and no reminder came.
            let since = person.renewedAtSim ?? person.paidAtSim ?? 0
            let reminder = telegram.sent(to: person.user.id).last { Recognise.isRenewalReminder($0) && $0.at > since }
            let reminded = reminder.map { telegram.clock >= $0.at + person.renewDelay } ?? false
            guard reminded || nowMs >= until - 3000 else { return }
            let forGood = now >= duration
            let next = until + (forGood ? Self.longPeriodMs : Int64(period * 1000))
            if let row = rows.row(of: person.user.id, in: nocodb),
                (try? nocodb.update(table: "users", id: row, fields: [Self.paidUntilField: .int(next)])) != nil
            {
                people[i].paidUntilMs = next
                people[i].renewals += 1
                people[i].renewedAtSim = telegram.clock
                people[i].renewedForGood = forGood
                people[i].events.append((telegram.clock, "renewed: the end moved from \(until) to \(next) (Unix ms)"))
            }
        case .returns:
            guard person.door == .lapsed, person.repaidAtSim == nil, let lapsed = person.lapsedAtSim,
                telegram.clock >= lapsed + person.returnAfter
            else { return }
            let next = nowMs + Self.longPeriodMs
            if let row = rows.row(of: person.user.id, in: nocodb),
                (try? nocodb.update(table: "users", id: row, fields: ["Paid": .bool(true), Self.paidUntilField: .int(next)])) != nil
            {
                people[i].paidUntilMs = next
                people[i].payments += 1
                people[i].repaidAtSim = telegram.clock
                people[i].events.append((telegram.clock, "paid again, until \(next) (Unix ms)"))
                people[i].door = .returning(seen: Set(Recognise.inviteLinks(telegram.sent(to: person.user.id))))
            }
        case .lapses:
            break
        }
    }

    /// Every payer's story as text (`people.log` in the run's directory): what they did and what
    /// the bot sent them, in order, with UTC times (`wallAtSimZero`: Unix ms at the simulator's 0 s).
    func story(telegram: TelegramSimulator, wallAtSimZero: Int64) -> String {
        func utc(_ sim: Double) -> String {
            let date = Date(timeIntervalSince1970: Double(wallAtSimZero) / 1000 + sim)
            return date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        }
        var out = ""
        for p in people where p.step == .paid {
            out += "user \(p.user.id): period \(p.periodFate?.rawValue ?? (period == nil ? "none" : "30 days")), payments \(p.payments), renewals \(p.renewals), lapses \(p.lapses), door: \(p.door.label)\n"
            var lines = p.events.map { (at: $0.at, text: "did: " + $0.what) }
            lines += telegram.sent(to: p.user.id).map { m in (at: m.at, text: "bot: " + String((m.text ?? m.mediaKind ?? "").prefix(110))) }
            for line in lines.sorted(by: { $0.at < $1.at }) { out += "  \(utc(line.at))  \(line.text.replacingOccurrences(of: "\n", with: " / "))\n" }
        }
        return out
    }

    var allArrived: Bool { people.allSatisfy { $0.step != .waiting } }

    /// Moves everyone along whose moment has come. `now` is seconds since the scenario started.
    mutating func step(now: Double, telegram: TelegramSimulator, nocodb: NocoDBSimulator, rows: inout DemoRowIndex) {
        for i in people.indices {
            let person = people[i]
            switch person.step {
            case .waiting where now >= person.arrival:
                telegram.userSends("/start", from: person.user)
                people[i].step = .startSent
            case .startSent:
                if telegram.sent(to: person.user.id).contains(where: Recognise.isWelcome),
                    (try? telegram.userPresses("get_access", from: person.user)) != nil
                {
                    people[i].step = .pressed
                }
            case .pressed:
                if telegram.sent(to: person.user.id).contains(where: Recognise.isPaymentLink) {
                    people[i].step = .linked
                    people[i].linkAt = now
                }
            case .linked:
                guard let linkAt = person.linkAt, now >= linkAt + person.actAfter else { continue }
                switch person.fate {
                case .pays:
                    // The payment system marks the row Paid (with periods: and writes its end);
                    // the bot has to notice by itself.
                    var fields: [String: SimNocoDBValue] = ["Paid": .bool(true)]
                    var until: Int64?
                    if let period {
                        until = Self.wallMs() + (person.periodFate == nil ? Self.longPeriodMs : Int64(period * 1000))
                        fields[Self.paidUntilField] = .int(until!)
                    }
                    if let row = rows.row(of: person.user.id, in: nocodb), (try? nocodb.update(table: "users", id: row, fields: fields)) != nil {
                        people[i].paidAtSim = telegram.clock
                        people[i].paidUntilMs = until
                        people[i].payments = 1
                        people[i].step = .paid
                        people[i].events.append((telegram.clock, "paid" + (until.map { ", until \($0) (Unix ms)" } ?? "")))
                    }
                case .blocks:
                    telegram.block(userID: person.user.id)
                    people[i].step = .blocked
                case .neverPays:
                    break
                }
            case .paid:
                if let club { walkIn(i, club: club, telegram: telegram) }
                if period != nil { livePeriod(i, now: now, telegram: telegram, nocodb: nocodb, rows: &rows) }
            default:
                break
            }
        }
    }
}

/// NocoDB row ids by TelegramId, read from the simulator's table as rows appear.
struct DemoRowIndex {
    private var byTelegramID: [Int64: Int64] = [:]
    private var scanned: Int64 = 0

    mutating func row(of telegramID: Int64, in nocodb: NocoDBSimulator) -> Int64? {
        if let row = byTelegramID[telegramID] { return row }
        let count = Int64(nocodb.rowCount(table: "users"))
        while scanned < count {
            scanned += 1
            switch nocodb.row(table: "users", id: scanned)?["TelegramId"] {
            case .string(let id)?: if let n = Int64(id) { byTelegramID[n] = scanned }
            case .int(let n)?: byTelegramID[n] = scanned
            default: break
            }
        }
        return byTelegramID[telegramID]
    }
}

/// A small seeded generator, so that `--seed` replays the same people.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
