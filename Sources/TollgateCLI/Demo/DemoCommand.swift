import ArgumentParser
import Foundation
import TollgateCore

/// `tollgate demo`: the whole system on this machine — a private redis-server, the Telegram and
/// NocoDB simulators (with their real limits), bot-gateway and several poller-scheduler instances
/// under a supervisor that plays systemd — and simulated people going through the paid-club flow.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole system on this machine with simulated users, and summarise what happened.",
        discussion: """
            Starts a private redis-server, the Telegram and NocoDB simulators (Telegram's 30 msg/s and \
            NocoDB cloud's 5 requests/s, 429s and 30 s blocks included), bot-gateway and --pollers \
            poller-scheduler instances (sharing one listening socket, as under systemd), then plays \
            --users people: they send /start, press "Get access", and pay at random times (their NocoDB \
            row turns Paid), never pay, or block the bot; payers join the club with their personal link, \
            and some forward it to a friend first (who must be shown out). With access periods (--access-period) \
            a share of payers get a short one: some renew before it ends, some let it lapse and are shown \
            out, some of those pay again and rejoin with a new link. Prints progress every few seconds and a \
            summary at the end; exits non-zero if a user was lost, a notification shown twice, a 429 seen, \
            anyone inside the club without a payment in force or an entitled payer left outside. With --real it runs against the Telegram and NocoDB named in the environment \
            (BOT_TOKEN, NOCODB_URL, NOCODB_TOKEN, NOCODB_TABLE_ID) and plays no users.
            """)

    @Option(help: "Simulated users.")
    var users = 300

    @Option(help: "How long users keep arriving and paying (arrivals in the first 40 %), e.g. 90s, 3m. With --real: how long to run (0 = until Ctrl-C).")
    var duration = "90s"

    @Option(help: "poller-scheduler instances.")
    var pollers = 3

    @Option(help: "Payment polling: delta (rows changed since a cursor) or batch (watched ids in one request).")
    var mode = "delta"

    @Option(help: "The reminder (a video) goes this long after the payment link, while unpaid.")
    var reminderAfter = "20s"

    @Option(help: "Share of users who pay.")
    var payShare = 0.65

    @Option(help: "Share of users who block the bot before their reminder.")
    var blockShare = 0.10

    @Flag(help: "No club's door: the confirmation carries the flow file's static link (as before the door existed).")
    var noClub = false

    @Option(help: "Share of payers who forward their personal link to a friend before using it (the friend must not stay inside).")
    var shareLinks = 0.1

    @Option(help: "Access periods through the row's expiry column (NOCODB_PAID_UNTIL_FIELD): auto (40 % of --duration, at least 10 s), off, or a duration for the short periods, e.g. 30s.")
    var accessPeriod = "auto"

    @Option(help: "Share of payers whose period is the short one (the others' ends lie 30 days ahead); they renew, lapse, or lapse and come back.")
    var periodShare = DemoScenario.periodShare

    @Flag(help: "Midway, kill -9 the gateway and then the leading poller; the supervisor restarts them as systemd would.")
    var chaos = false

    @Flag(help: "Midway (at 40 % of --duration), a campaign to everyone the bot knows through the gateway's outbox; the summary counts who got it once, twice or not at all.")
    var broadcast = false

    @Flag(help: "Updates reach the gateway by webhook (the simulator POSTs them to WEBHOOK_LISTEN) instead of long polling.")
    var webhook = false

    @Option(help: "Share of Bot API calls the Telegram simulator answers with a 5xx (500/502/503/504 with Telegram's error envelope), e.g. 0.1.")
    var telegramFailRate = 0.0

    @Flag(help: "Use the real Telegram and NocoDB from the environment instead of the simulators (no simulated users).")
    var real = false

    @Option(help: "Seed for the simulated people.")
    var seed: UInt64 = 1

    @Option(help: "Seconds between progress lines.")
    var every = 5.0

    @Option(help: "Directory for logs and sockets (a fresh temporary one by default; kept afterwards).")
    var directory: String?

    @Option(help: "Directory holding bot-gateway and poller-scheduler (default: next to this tollgate).")
    var bin: String?

    @Flag(help: "Print the summary as one JSON object on the last line of stdout (progress goes to stderr).")
    var json = false

    func validate() throws {
        guard users >= 1 else { throw ValidationError("--users must be at least 1") }
        guard (1...16).contains(pollers) else { throw ValidationError("--pollers must be 1...16") }
        guard ["delta", "batch"].contains(mode) else { throw ValidationError("--mode is delta or batch") }
        guard DurationParser.parse(duration) != nil else { throw ValidationError("--duration: not a duration: \(duration)") }
        guard let r = DurationParser.parse(reminderAfter), r > .zero else {
            throw ValidationError("--reminder-after: not a positive duration: \(reminderAfter)")
        }
        guard (0...1).contains(payShare), (0...1).contains(blockShare), payShare + blockShare <= 1 else {
            throw ValidationError("--pay-share and --block-share are shares (0...1) that add up to at most 1")
        }
        guard every > 0 else { throw ValidationError("--every must be positive") }
        guard shareLinks.isFinite, (0...1).contains(shareLinks) else { throw ValidationError("--share-links is a share of payers, 0...1") }
        guard periodShare.isFinite, (0...1).contains(periodShare) else { throw ValidationError("--period-share is a share of payers, 0...1") }
        switch Self.accessPeriod(accessPeriod, duration: DurationParser.parse(duration)!.seconds) {
        case .failure(let bad): throw ValidationError(bad.message)
        case .success(let period):
            if period != nil, accessPeriod.lowercased() != "auto", noClub || real {
                throw ValidationError("--access-period needs the club's door of the simulated run (not with --no-club or --real)")
            }
        }
        guard telegramFailRate.isFinite, (0...0.9).contains(telegramFailRate) else {
            throw ValidationError("--telegram-fail-rate is a share of calls, 0...0.9")
        }
        if real && (webhook || telegramFailRate > 0) {
            throw ValidationError("--webhook and --telegram-fail-rate are for the simulated Telegram, not with --real")
        }
        if real {
            let env = ProcessInfo.processInfo.environment
            let missing = ["BOT_TOKEN", "NOCODB_URL", "NOCODB_TOKEN", "NOCODB_TABLE_ID"].filter { (env[$0] ?? "").isEmpty }
            guard missing.isEmpty else { throw ValidationError("--real needs \(missing.joined(separator: ", ")) in the environment") }
        }
    }

    func run() async throws {
        let settings = DemoSettings(
            users: users, duration: DurationParser.parse(duration)!.seconds, pollers: pollers, mode: mode,
            reminderDelay: DurationParser.parse(reminderAfter)!.seconds, payShare: payShare, blockShare: blockShare,
            club: !noClub && !real, shareLinks: shareLinks,
            accessPeriod: noClub || real ? nil : try Self.accessPeriod(accessPeriod, duration: DurationParser.parse(duration)!.seconds).get(),
            periodShare: periodShare, chaos: chaos, broadcast: broadcast && !real, webhook: webhook, telegramFailRate: telegramFailRate, real: real, seed: seed, progressEvery: every,
            directory: directory, binaries: bin ?? BenchCommand.ownDirectory())
        let output = BenchOutput(toStderr: json)
        let run = DemoRun(settings: settings, output: output)
        let summary = try await run.execute()
        if json {
            print(String(decoding: try summary.jsonLine(), as: UTF8.self))
        }
        if !summary.problems.isEmpty { throw ExitCode(1) }
    }
}

extension DemoCommand {
    struct BadOption: Error { let message: String }

    /// The short access period in seconds that `--access-period` names (nil: off), or why not.
    static func accessPeriod(_ text: String, duration: Double) -> Result<Double?, BadOption> {
        switch text.lowercased() {
        case "auto": return .success(max(10, duration * 0.4))
        case "off", "no", "none": return .success(nil)
        default:
            guard let d = DurationParser.parse(text) else {
                return .failure(BadOption(message: "--access-period is auto, off or a duration of at least 10 s (e.g. 30s), not '\(text.prefix(40))'"))
            }
            guard d >= .seconds(10) else {
                return .failure(BadOption(message: "--access-period is auto, off or a duration of at least 10 s, not \(text.prefix(40))"))
            }
            return .success(d.seconds)
        }
    }
}

struct DemoSettings: Sendable {
    var users: Int
    /// Seconds.
    var duration: Double
    var pollers: Int
    var mode: String
    var reminderDelay: Double
    var payShare: Double
    var blockShare: Double
    /// The club's door (a club in the Telegram simulator, personal links).
    var club: Bool
    var shareLinks: Double
    /// The short access period in seconds (nil: access has no end, as without periods).
    var accessPeriod: Double?
    /// Share of payers who get the short period.
    var periodShare: Double
    var chaos: Bool
    var broadcast: Bool = false
    var webhook: Bool
    /// Share of Bot API calls answered with a 5xx by the simulator.
    var telegramFailRate: Double
    var real: Bool
    var seed: UInt64
    var progressEvery: Double
    var directory: String?
    var binaries: String
}
