import ArgumentParser
import Foundation
import TollgateBroadcast
import TollgateCore
import TollgateIPC
import TollgateNocoDB

/// `tollgate broadcast`: campaigns through the gateway's outbox, over its IPC socket.
struct BroadcastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast",
        abstract: "Write to many users at Telegram's pace: campaigns that survive restarts and reach each recipient once.",
        subcommands: [Create.self, List.self, Show.self, Pause.self, Resume.self, Cancel.self])

    typealias Connection = ClubCommand.Connection

    static func summary(_ s: BroadcastSummary) -> String {
        let failed = s.failed.values.reduce(0, +)
        var line = "\(s.id) · \(s.state) · \(s.sent)/\(s.total) sent, \(s.queued + s.leased) to go"
        if s.suppressed > 0 { line += ", \(s.suppressed) suppressed" }
        if failed > 0 { line += ", \(failed) failed (" + s.failed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")" }
        if s.uncertain > 0 { line += ", \(s.uncertain) uncertain" }
        if s.dropped > 0 { line += ", \(s.dropped) dropped" }
        if let rate = rate(s) {
            line += String(format: " · %.1f msg/s", rate)
            if s.state == "running", rate > 0 { line += " · ETA \(Int((Double(s.queued + s.leased) / rate).rounded())) s" }
        }
        return line + "\n  \"\(s.text)\"" + (s.startAtMs.map { "\n  starts \(ClubCommand.shown($0))" } ?? "")
    }

    /// Messages a second between the first and the last send counted.
    static func rate(_ s: BroadcastSummary) -> Double? {
        guard let first = s.firstSentAtMs, let last = s.lastSentAtMs, last > first, s.sent > 1 else { return nil }
        return Double(s.sent - 1) / (Double(last - first) / 1000)
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a campaign (its audience counted first with --dry-run).",
            discussion: """
                The text may use {first_name} and {user_id}. The audience: --to all (every user the bot knows), \
                --to paid|awaiting_payment|idle|topic_selected, or --ids-file (one user id per line; # comments). \
                Running the same command again creates nothing new (the idempotency key is taken from the text, \
                the audience and the start; --key sets one).
                """)
        @OptionGroup var connection: Connection
        @Option(help: "The message (1-4096 characters).") var text: String?
        @Option(help: "Read the message from a file.") var textFile: String?
        @Option(help: "all, paid, awaiting_payment, idle, topic_selected, or expiring (with --within).") var to: String?
        @Option(help: "With --to expiring: members whose access ends within this long from now (7d, 36h).") var within: String?
        @Option(help: "A file of user ids, one per line.") var idsFile: String?
        @Option(help: "Start at a date or time (2026-12-31T18:00:00Z) or Unix seconds; default now.") var at: String?
        @Option(help: "A send a crash left uncertain: skip (default; never twice) or resend (never missed).") var onUncertain: String = "skip"
        @Option(help: "The idempotency key (1-64 of A-Z a-z 0-9 _ -).") var key: String?
        @Option(help: "A URL button under the message: 'Label=https://…' ({user_id} may be in the link).") var button: String?
        @Option(help: "A photo with the text as its caption (at most 1024 characters): a path on the gateway's host, an https:// URL or file_id:<id>.")
        var photo: String?
        @Option(help: "A video with the text as its caption (as --photo).") var video: String?
        @Option(help: "A document with the text as its caption (as --photo).") var document: String?
        @Flag(help: "Send past Telegram's 30 msg/s (BROADCAST_PAID_RATE): each message above that costs the bot 0.1 Telegram Star.")
        var allowPaidBroadcast = false
        @Flag(help: "Only count the audience; nothing is created.") var dryRun = false

        /// `--photo`, `--video` or `--document`, a local path made absolute.
        var media: BroadcastMedia? {
            let given = [("photo", photo), ("video", video), ("document", document)].compactMap { kind, source in source.map { (kind, $0) } }
            guard let (kind, source) = given.first else { return nil }
            if source.hasPrefix("file_id:") || source.hasPrefix("https://") || source.hasPrefix("http://") || source.hasPrefix("/") {
                return BroadcastMedia(kind: kind, source: source)
            }
            return BroadcastMedia(kind: kind, source: FileManager.default.currentDirectoryPath + "/" + source)
        }

        /// `--button` as label and link.
        var buttonParts: (text: String, url: String)? {
            guard let button, let eq = button.firstIndex(of: "=") else { return nil }
            return (String(button[..<eq]), String(button[button.index(after: eq)...]))
        }

        func validate() throws {
            if (text == nil) == (textFile == nil) { throw ValidationError("give --text or --text-file") }
            if (to == nil) == (idsFile == nil) { throw ValidationError("give --to or --ids-file") }
            if let to, to != "all", to != "expiring", !BroadcastAudience.states.contains(to) {
                throw ValidationError("--to: expected all, expiring, \(BroadcastAudience.states.joined(separator: ", "))")
            }
            if (to == "expiring") != (within != nil) { throw ValidationError("--within goes with --to expiring, and --to expiring needs it") }
            if let within {
                guard let d = DurationParser.parse(within), d >= .seconds(60), d.milliseconds <= BroadcastAudience.longestWindowMs else {
                    throw ValidationError("--within: expected a duration from 1m to 365d, like 7d")
                }
            }
            if let at, PaidUntil.milliseconds(ClubCommand.Grant.untilValue(at)) == nil {
                throw ValidationError("--at: expected a time like 2026-12-31T18:00:00Z or Unix seconds, before 2100")
            }
            if !["skip", "resend"].contains(onUncertain) { throw ValidationError("--on-uncertain: skip or resend") }
            if let key, !BroadcastControl.isID(key) { throw ValidationError("--key: 1-64 of A-Z a-z 0-9 _ -") }
            if button != nil, buttonParts == nil { throw ValidationError("--button: expected 'Label=https://…'") }
            if [photo, video, document].compactMap({ $0 }).count > 1 { throw ValidationError("give one of --photo, --video, --document") }
        }

        func run() async throws {
            let message: String
            if let textFile {
                guard let data = FileManager.default.contents(atPath: textFile) else { throw ValidationError("--text-file: cannot read \(textFile)") }
                message = String(decoding: data, as: UTF8.self)
            } else {
                message = text ?? ""
            }
            var draft = BroadcastMessage(text: message, button: buttonParts)
            draft.allowPaidBroadcast = allowPaidBroadcast
            if let media {
                guard let kind = BroadcastMessage.Media.Kind(rawValue: media.kind) else { throw ValidationError("unknown media kind") }
                draft.media = BroadcastMessage.Media(kind: kind, source: media.source)
            }
            do {
                try draft.validate()
            } catch {
                throw ValidationError("the message: \(error.message)")
            }
            // A path is read by the gateway; when it runs here, say now that the file is missing.
            if case .path(let path)? = draft.media?.parsed, !FileManager.default.isReadableFile(atPath: path) {
                throw ValidationError("the media file \(path.prefix(200)) cannot be read (it must be on the gateway's host)")
            }
            var ids: [Int64] = []
            var idBytes: [UInt8] = []
            if let idsFile {
                guard let data = FileManager.default.contents(atPath: idsFile) else { throw ValidationError("--ids-file: cannot read \(idsFile)") }
                idBytes = Array(data)
                do {
                    ids = try BroadcastIDList.parse(idBytes)
                } catch {
                    throw ValidationError("--ids-file \(idsFile): \(error.message)")
                }
                if ids.isEmpty { throw ValidationError("--ids-file \(idsFile): no user ids") }
            }
            let audience: BroadcastAudience
            switch to {
            case nil: audience = BroadcastAudience(kind: "ids")
            case "all"?: audience = BroadcastAudience(kind: "all")
            case "expiring"?: audience = BroadcastAudience(kind: "expiring", withinMs: within.flatMap(DurationParser.parse)?.milliseconds)
            case let state?: audience = BroadcastAudience(kind: "state", state: state)
            }
            let startAtMs = at.flatMap { PaidUntil.milliseconds(ClubCommand.Grant.untilValue($0)) }
            if dryRun, audience.kind == "ids" {
                try connection.print(BroadcastCreate.Reply(id: "", created: false, audience: ids.count)) { "audience: \(ids.count) users (nothing created)" }
                return
            }
            // The same command again makes nothing new: the key is the content's.
            var fingerprint =
                Array(message.utf8) + [0] + Array("\(audience.kind):\(audience.state ?? ""):\(within ?? ""):\(startAtMs ?? 0):\(button ?? ""):\(media?.kind ?? ""):\(media?.source ?? ""):\(allowPaidBroadcast)".utf8) + [0]
                + idBytes
            let idempotency = key ?? "cli-" + String(Self.fnv1a(&fingerprint), radix: 16)
            var request = BroadcastCreate(text: message, audience: audience, idempotencyKey: idempotency, startAtMs: startAtMs)
            request.onUncertain = onUncertain
            request.button = buttonParts.map { BroadcastButton(text: $0.text, url: $0.url) }
            request.dryRun = dryRun ? true : nil
            request.media = media
            request.allowPaidBroadcast = allowPaidBroadcast ? true : nil
            let made = try await connection.call(request, timeout: .seconds(120))
            if allowPaidBroadcast {
                // What Telegram may charge: messages above the free 30/s, at 0.1 Star each.
                let rate = Double(ProcessInfo.processInfo.environment["BROADCAST_PAID_RATE"] ?? "") ?? 100
                let stars = Double(made.audience) * max(0, rate - 30) / max(rate, 1) * 0.1
                FileHandle.standardError.write(
                    Data(
                        String(
                            format: "warning: allow_paid_broadcast: messages above Telegram's free 30/s cost the bot 0.1 Star each — up to about %.0f Stars for %d recipients at %.0f msg/s\n",
                            stars, made.audience, rate
                        ).utf8))
            }
            if dryRun {
                try connection.print(made) { "audience: \(made.audience) users (nothing created)" }
                return
            }
            var preparing = made.created
            if audience.kind == "ids", !preparing {
                // A retried command: finish what a first try left half-way (adding twice adds nothing).
                preparing = try await connection.call(BroadcastShow(id: made.id), timeout: .seconds(10)).state == "preparing"
            }
            if audience.kind == "ids", preparing {
                for start in stride(from: 0, to: ids.count, by: BroadcastAdd.maxIDs) {
                    _ = try await connection.call(BroadcastAdd(id: made.id, userIDs: Array(ids[start..<min(ids.count, start + BroadcastAdd.maxIDs)])), timeout: .seconds(30))
                }
                _ = try await connection.call(BroadcastSeal(id: made.id), timeout: .seconds(10))
            }
            let shown = try await connection.call(BroadcastShow(id: made.id), timeout: .seconds(10))
            try connection.print(shown) { (made.created ? "created " : "already created by this command: ") + BroadcastCommand.summary(shown) }
        }

        static func fnv1a(_ bytes: inout [UInt8]) -> UInt64 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
            return hash
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest campaigns and their figures.")
        @OptionGroup var connection: Connection
        func run() async throws {
            let reply = try await connection.call(BroadcastList(), timeout: .seconds(10))
            try connection.print(reply) { reply.campaigns.isEmpty ? "no campaigns" : reply.campaigns.map(BroadcastCommand.summary).joined(separator: "\n") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One campaign's figures; --follow until it is over.")
        @OptionGroup var connection: Connection
        @Argument(help: "The campaign id.") var id: String
        @Flag(help: "Show the progress until the campaign is done, cancelled or paused.") var follow = false
        func validate() throws { if !BroadcastControl.isID(id) { throw ValidationError("not a campaign id: \(id.prefix(64))") } }
        func run() async throws {
            var s = try await connection.call(BroadcastShow(id: id), timeout: .seconds(10))
            let terminal = isatty(1) == 1 && !connection.json
            while follow, ["running", "preparing"].contains(s.state) {
                if terminal {
                    let done = s.total == 0 ? 1 : Double(s.total - s.queued - s.leased) / Double(s.total)
                    let width = 30
                    let bar = String(repeating: "#", count: Int(done * Double(width))).padding(toLength: width, withPad: "-", startingAt: 0)
                    FileHandle.standardOutput.write(Data("\r[\(bar)] \(Int(done * 100))% \(s.sent)/\(s.total)   ".utf8))
                }
                try await Task.sleep(for: .seconds(1))
                s = try await connection.call(BroadcastShow(id: id), timeout: .seconds(10))
            }
            if follow, terminal { FileHandle.standardOutput.write(Data("\n".utf8)) }
            try connection.print(s) { BroadcastCommand.summary(s) }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a campaign (what is in line keeps its place).")
        @OptionGroup var connection: Connection
        @Argument(help: "The campaign id.") var id: String
        func run() async throws { try await BroadcastCommand.control(connection, id, "pause") }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused campaign.")
        @OptionGroup var connection: Connection
        @Argument(help: "The campaign id.") var id: String
        func run() async throws { try await BroadcastCommand.control(connection, id, "resume") }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a campaign: what is still in line is dropped.")
        @OptionGroup var connection: Connection
        @Argument(help: "The campaign id.") var id: String
        func run() async throws { try await BroadcastCommand.control(connection, id, "cancel") }
    }

    static func control(_ connection: Connection, _ id: String, _ action: String) async throws {
        guard BroadcastControl.isID(id) else { throw ValidationError("not a campaign id: \(id.prefix(64))") }
        let s = try await connection.call(BroadcastControl(id: id, action: action), timeout: .seconds(10))
        try connection.print(s) { BroadcastCommand.summary(s) }
    }
}
