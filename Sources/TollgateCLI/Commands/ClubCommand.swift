import ArgumentParser
import Foundation
import Logging
import TollgateCore
import TollgateIPC
import TollgateNocoDB

/// `tollgate club`: the club's door for operators, over the gateway's IPC socket.
struct ClubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "club",
        abstract: "The club's door: who is entitled and inside, manual grants and revokes, a reconciliation now.",
        subcommands: [Status.self, Grant.self, Revoke.self, Reconcile.self])

    struct Connection: ParsableArguments {
        @Option(help: "The gateway's IPC socket (default: $GATEWAY_SOCKET or /run/tollgate/gateway.sock).")
        var gateway: String?

        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        var path: String { gateway ?? ProcessInfo.processInfo.environment["GATEWAY_SOCKET"] ?? "/run/tollgate/gateway.sock" }

        /// Sends `request` to the gateway; a failure is printed as one line and exits 1 (2: the
        /// request itself was refused).
        func call<R: IPCRequest>(_ request: R, timeout: Duration) async throws -> R.Reply {
            var logger = Logger(label: "tollgate-club")
            logger.logLevel = .critical
            let client = IPCClient(path: path, logger: logger)
            defer { Task { await client.close() } }
            do {
                _ = try await client.hello(service: "tollgate", instance: "club-\(getpid())")
                return try await client.call(request, timeout: timeout)
            } catch {
                FileHandle.standardError.write(Data("tollgate: \(path): \(error.code.rawValue): \(error.message)\n".utf8))
                throw ExitCode(error.code.isRetryable ? 1 : 2)
            }
        }

        func print<T: Encodable>(_ value: T, text: () -> String) throws {
            if json {
                Swift.print(String(decoding: try IPCCoding.encode(value), as: UTF8.self))
            } else {
                Swift.print(text())
            }
        }
    }

    static func shown(_ ms: Int64?) -> String {
        guard let ms else { return "never" }
        return String(PaidUntil.text(ms).prefix(16)) + " UTC"
    }

    static func member(_ m: ClubMember) -> String {
        let inside = m.membership.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        return """
            user \(m.userID): \(m.entitled ? "entitled" : "not entitled")\(m.expiresAtMs.map { " until \(shown($0))" } ?? (m.entitled ? ", no end" : ""))
              \(m.offer.map { "offer \($0), " } ?? "")source \(m.source ?? "-"), granted \(shown(m.grantedAtMs)), links held \(m.links)
              membership \(inside.isEmpty ? "never seen" : inside)
            """
    }

    static func report(_ r: ReconcileReport) -> String {
        """
        reconciliation (\(r.trigger)\(r.dryRun ? ", dry run: nothing changed" : "")) \(shown(r.startedAtMs)), \(r.finishedAtMs - r.startedAtMs) ms
          scanned \(r.scanned), getChatMember calls \(r.checked), inside \(r.inside), entitled \(r.entitled)
          drift: inside without a right \(r.insideUnentitled), payers outside without a link \(r.strandedPayers)
          \(r.dryRun ? "would remove" : "removed") \(r.removed), \(r.dryRun ? "would re-invite" : "re-invited") \(r.reinvited), kept inside (row paid) \(r.keptPaid), left for their lapse job \(r.pendingLapses), not checked (errors) \(r.errors)
        """
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Members, entitled users and drift as last seen, and the last reconciliation.")
        @OptionGroup var connection: Connection

        func run() async throws {
            let s = try await connection.call(ClubStatus(), timeout: .seconds(120))
            try connection.print(s) {
                var lines = [
                    "club \(s.chats.map(String.init).joined(separator: ", ")) · \(s.mode) · periods: \(s.periods)",
                    "known \(s.known) · entitled \(s.entitled) · inside \(s.members)",
                    "drift as last seen: inside without a right \(s.insideUnentitled) · payers outside without a link \(s.strandedPayers)",
                    "next reconciliation: \(s.nextReconcileAtMs.map { ClubCommand.shown($0) } ?? "only on request")",
                ]
                lines.append(s.lastReconcile.map(ClubCommand.report) ?? "no reconciliation yet")
                return lines.joined(separator: "\n")
            }
            if s.insideUnentitled > 0 || s.strandedPayers > 0 { throw ExitCode(3) }
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a user in by hand (source 'manual') and print their links to hand over.")
        @OptionGroup var connection: Connection
        @Argument(help: "The Telegram user id.") var user: Int64
        @Option(help: "Until a date or time (2026-12-31, 2026-12-31T18:00:00Z) or Unix seconds.") var until: String?
        @Option(name: .customLong("for"), help: "For a period from now, or from the current end while access runs (30d, 12h).")
        var period: String?
        @Option(help: "For one of the flow's offers (its topics id; '' for the whole club). Unset: the offer the user holds stays.")
        var offer: String?

        func validate() throws {
            guard user > 0 else { throw ValidationError("USER must be a positive Telegram user id") }
            if until != nil && period != nil { throw ValidationError("give --until or --for, not both") }
            if let until, PaidUntil.milliseconds(Self.untilValue(until)) == nil {
                throw ValidationError("--until: expected a date like 2026-12-31, a time like 2026-12-31T18:00:00Z or Unix seconds, before 2100")
            }
            if let period, DurationParser.parse(period) == nil {
                throw ValidationError("--for: expected a duration like 30d or 12h")
            }
            if let offer, !offer.isEmpty, !ClubGrant.isOfferID(offer) {
                throw ValidationError("--offer: expected an offer id of the flow (1-32 of a-z 0-9 _ -), or '' for the whole club")
            }
        }

        /// `--until` as the expiry column would hold it: digits are Unix time (PaidUntil tells
        /// seconds from milliseconds and refuses what lies past 2100), anything else a date.
        static func untilValue(_ text: String) -> NocoDBValue {
            if let n = Int64(text) { return .int(n) }
            return .string(text)
        }

        func run() async throws {
            var request = ClubGrant(userID: user, offer: offer)
            if let until { request.untilMs = PaidUntil.milliseconds(Self.untilValue(until)) }
            if let period, let d = DurationParser.parse(period) { request.periodMs = d.milliseconds }
            let reply = try await connection.call(request, timeout: .seconds(60))
            try connection.print(reply) {
                ClubCommand.member(reply.member) + "\n" + reply.links.map { "  link: \($0)" }.joined(separator: "\n")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take access away: the ledger says not entitled, the user is shown out, their links revoked.")
        @OptionGroup var connection: Connection
        @Argument(help: "The Telegram user id.") var user: Int64

        func validate() throws { guard user > 0 else { throw ValidationError("USER must be a positive Telegram user id") } }

        func run() async throws {
            let reply = try await connection.call(ClubRevoke(userID: user), timeout: .seconds(60))
            try connection.print(reply) { ClubCommand.member(reply.member) + "\n  shown out of \(reply.removedFrom) chat(s)" }
        }
    }

    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare the ledger with Telegram and NocoDB now and fix the drift; waits for the report.")
        @OptionGroup var connection: Connection
        @Flag(help: "Count what would be done, change nothing.") var dryRun = false
        @Option(help: "Hours to wait for the report (a large club is checked at the reconciliation's share of the rate).")
        var hours: Double = 24

        func validate() throws {
            guard hours.isFinite, hours > 0, hours <= 720 else { throw ValidationError("--hours must be from 0 to 720") }
        }

        func run() async throws {
            let report = try await connection.call(ClubReconcile(dryRun: dryRun), timeout: .seconds(Int64(hours * 3600)))
            try connection.print(report) { ClubCommand.report(report) }
        }
    }
}
