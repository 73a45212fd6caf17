import Foundation
import TollgateSimulators

/// The sandbox's simulated people: each arrives at a random time, sends /start, presses "Get
/// access" once the welcome is there, and then pays at a random moment, never pays, or blocks the
/// bot. The scenario acts only through the simulators — Telegram messages and button presses, and
/// the user's NocoDB row turning Paid, as a payment system would do it — and reads what the bot
/// sent from the Telegram simulator, never from the services.
struct DemoScenario {
    enum Fate: String, Sendable {
        case pays, neverPays = "never_pays", blocks
    }

    /// What the bot's messages look like in the demo's flow file (see ``DemoCommand/flowYAML``).
    enum Recognise {
        static func isWelcome(_ m: SimSentMessage) -> Bool { m.callbackData.contains("get_access") }
        static func isPaymentLink(_ m: SimSentMessage) -> Bool { m.text?.contains("complete the payment") == true }
        static func isReminder(_ m: SimSentMessage) -> Bool { m.mediaKind == "video" }
        static func isConfirmation(_ m: SimSentMessage) -> Bool { m.text?.hasPrefix("Payment received") == true }
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
    }

    var people: [Person]

    /// `users` people arriving during the first 40 % of `duration`; `payShare` of them pay within
    /// the next half of it (some before the reminder, some after), `blockShare` block the bot
    /// before the reminder is due, the rest never pay.
    /// The club the payers join (nil: no club's door).
    let club: Int64?

    init(
        users: Int, duration: Double, reminderDelay: Double, payShare: Double, blockShare: Double, shareShare: Double = 0,
        club: Int64? = nil, seed: UInt64
    ) {
        self.club = club
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
    }

    /// Everyone the simulator needs to know: the people and the friends links are forwarded to.
    var simulatedUsers: [SimUser] { people.map(\.user) + people.filter(\.sharesLink).map(\.friend) }

    /// A payer at the club's door, once their confirmation (with their personal link) is there:
    /// they join at once — or first forward the link to a friend, who uses it, and ask the bot
    /// again with /status for a new one of their own.
    mutating func walkIn(_ i: Int, club: Int64, telegram: TelegramSimulator) {
        let person = people[i]
        let links = Recognise.inviteLinks(telegram.sent(to: person.user.id))
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
            } else if telegram.join(person.user.id, club: club, link: link) == .joined {
                people[i].door = .inside
                people[i].joinedAtSim = telegram.clock
            }
        case .waitingForNewLink(let old):
            guard let link = links.last, link != old else {
                // The answer came before the friend was shown out (the same link): ask again.
                if telegram.clock - (person.askedAtSim ?? 0) > 3 {
                    telegram.userSends("/status", from: person.user)
                    people[i].askedAtSim = telegram.clock
                }
                return
            }
            if telegram.join(person.user.id, club: club, link: link) == .joined {
                people[i].door = .inside
                people[i].joinedAtSim = telegram.clock
            }
        case .inside:
            break
        }
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
                    // The payment system marks the row Paid; the bot has to notice by itself.
                    if let row = rows.row(of: person.user.id, in: nocodb), (try? nocodb.markPaid(table: "users", id: row)) != nil {
                        people[i].paidAtSim = telegram.clock
                        people[i].step = .paid
                    }
                case .blocks:
                    telegram.block(userID: person.user.id)
                    people[i].step = .blocked
                case .neverPays:
                    break
                }
            case .paid:
                if let club { walkIn(i, club: club, telegram: telegram) }
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
