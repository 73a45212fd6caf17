import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TollgateBroadcast
import TollgateCore
import TollgateRedis
import TollgateTelegram

/// Sends the running campaigns of the outbox, on every gateway: claims a batch of recipients,
/// sends each one at low priority (only what replies, confirmations and reminders leave of the
/// bot's budget), and completes the batch in one round trip.
///
/// Each recipient is a unit of the effect journal (`b:<campaign>:<user>`) run in one place at a
/// time (``RunClaims``): a recipient handed out twice (a lease that lapsed under a frozen gateway)
/// is sent once — the second run finds the first one's record — and a send left uncertain by a
/// crash follows the campaign's policy (skip by default). Blocked and gone chats are suppressed as
/// for any send and counted, never retried.
public final class BroadcastWorker: Service, Sendable {
    public struct Settings: Sendable, Equatable {
        /// Recipients per claim.
        public var batch: Int
        /// How long a claimed batch is ours without news: renewed while its sends go out, so a
        /// gateway that dies leaves its recipients to the others within this long.
        public var lease: Duration
        /// How often to look for work when there is none.
        public var idle: Duration
        /// Recipients of a batch on their way at once (each waits for its slot in the shared
        /// limits; several keep the bot's budget used while one is in its journal or on the wire).
        public var concurrency: Int

        public init(batch: Int = 20, lease: Duration = .seconds(30), idle: Duration = .seconds(1), concurrency: Int = 4) {
            self.batch = batch
            self.lease = lease
            self.idle = idle
            self.concurrency = max(1, concurrency)
        }
    }

    /// Counters for `stats`.
    public struct Counters: Sendable, Equatable {
        public var batches = 0
        public var sent = 0
        public var suppressed = 0
        public var failed = 0
        public var uncertain = 0
        /// Recipients put back in line (a 429, a transient error, running elsewhere, stopping).
        public var later = 0
        /// Recipients found done by an earlier run (handed out again after a lapsed lease).
        public var alreadyDone = 0
        /// Campaigns running, and their recipients still to go (in line or leased), as last looked
        /// at (every few seconds).
        public var campaignsRunning = 0
        public var toGo = 0
    }

    let outbox: BroadcastOutbox
    let journal: EffectJournal
    let claims: RunClaims
    let sender: OutboundSender
    let states: UserStateStore
    let settings: Settings
    let logger: Logger
    private let counters = Mutex(Counters())
    /// `tollgate_broadcast_messages_total{campaign, outcome}`, one counter per pair (a campaign id
    /// is the operator's, a few a week: bounded; never a user's id).
    private let metrics: any MetricsFactory
    private let perCampaign = Mutex<[String: Metrics.Counter]>([:])
    /// A campaign's media file, read once per campaign in this process (then Telegram's client
    /// sends it by the `file_id` its first upload got).
    private let mediaFiles = Mutex<[String: InputFile]>([:])
    private let lastLook = Mutex(ContinuousClock.now - .seconds(3600))

    public init(
        outbox: BroadcastOutbox, journal: EffectJournal, claims: RunClaims, sender: OutboundSender, states: UserStateStore,
        settings: Settings = .init(), logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory
    ) {
        self.metrics = metrics
        self.outbox = outbox
        self.journal = journal
        self.claims = claims
        self.sender = sender
        self.states = states
        self.settings = settings
        self.logger = logger
    }

    public var stats: Counters { counters.withLock { $0 } }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let worked: Bool
                do {
                    worked = try await self.step()
                } catch is CancellationError {
                    return
                } catch {
                    self.logger.warning("broadcast worker: \(Self.shown(error)); trying again", metadata: [:])
                    worked = false
                }
                if !worked { try? await Task.sleep(for: self.settings.idle) }
            }
        }
    }

    /// Claims and sends one batch of some running campaign; false when there was none.
    @discardableResult
    public func step() async throws -> Bool {
        let running = try await outbox.running()
        try await look(at: running)
        for id in running {
            let batch = try await outbox.claim(id, limit: settings.batch, lease: settings.lease)
            guard !batch.recipients.isEmpty else { continue }
            try await send(batch, of: id)
            return true
        }
        return false
    }

    /// Refreshes the running campaigns' figures for `stats` and `STATUS=`, every 5 s at most.
    private func look(at running: [String]) async throws {
        let due = lastLook.withLock { last -> Bool in
            guard ContinuousClock.now - last >= .seconds(5) else { return false }
            last = .now
            return true
        }
        guard due else { return }
        var toGo = 0
        for id in running {
            if let p = try await outbox.progress(id) { toGo += p.queued + p.leased }
        }
        counters.withLock {
            $0.campaignsRunning = running.count
            $0.toGo = toGo
        }
    }

    func send(_ batch: BroadcastOutbox.Batch, of id: String) async throws {
        counters.withLock { $0.batches += 1 }
        var outcomes: [Int64: BroadcastOutbox.Outcome] = [:]
        let message: BroadcastMessage
        let media: InputFile?
        do throws(BroadcastError) {
            message = try BroadcastMessage(fields: try await fieldsOf(id))
            media = try message.media.map { m throws(BroadcastError) in try file(of: m, campaign: id) }
        } catch {
            logger.error("a campaign's message cannot be read: its recipients fail", metadata: ["campaign": "\(id)", "error": "\(error)"])
            for user in batch.recipients {
                outcomes[user] = .failed("unreadable_campaign")
                count(.failed("unreadable_campaign"), campaign: id)
            }
            try await outbox.complete(id, batch: batch, outcomes: outcomes)
            return
        }
        var renewed = ContinuousClock.now
        var waiting = batch.recipients[...]
        try await withThrowingTaskGroup(of: (Int64, BroadcastOutbox.Outcome).self) { group in
            var inFlight = 0
            while true {
                // Once stopping, no new recipient starts: the rest are put back in line.
                while inFlight < settings.concurrency, !Task.isCancelled, let user = waiting.popFirst() {
                    group.addTask { (user, try await self.sendOne(message, media: media, campaign: id, to: user)) }
                    inFlight += 1
                }
                guard let (user, outcome) = try await group.next() else { break }
                inFlight -= 1
                outcomes[user] = outcome
                count(outcome, campaign: id)
                if ContinuousClock.now - renewed > settings.lease / 3 {
                    try await outbox.extend(id, batch: batch, lease: settings.lease)
                    renewed = .now
                }
            }
        }
        // Completed even when stopping: what was sent is counted, the rest back in line.
        try await outbox.complete(id, batch: batch, outcomes: outcomes)
    }

    private func count(_ outcome: BroadcastOutbox.Outcome, campaign: String) {
        let name: String
        switch outcome {
        case .sent: name = "sent"
        case .suppressed: name = "suppressed"
        case .failed: name = "failed"
        case .uncertain: name = "uncertain"
        case .later: name = "later"
        }
        let key = campaign + "\u{0}" + name
        let counter = perCampaign.withLock { known in
            if let counter = known[key] { return counter }
            let made = Metrics.Counter(
                label: "tollgate_broadcast_messages_total", dimensions: [("campaign", campaign), ("outcome", name)], factory: metrics)
            known[key] = made
            return made
        }
        counter.increment()
        counters.withLock {
            switch outcome {
            case .sent: $0.sent += 1
            case .suppressed: $0.suppressed += 1
            case .failed: $0.failed += 1
            case .uncertain: $0.uncertain += 1
            case .later: $0.later += 1
            }
        }
    }

    private func fieldsOf(_ id: String) async throws(BroadcastError) -> [String: String] {
        do {
            return try await outbox.fields(id)
        } catch {
            throw BroadcastError(.unavailable, "Redis: \(error.code.rawValue)")
        }
    }

    /// The file a campaign's media names; a path is read once per campaign (at most 50 MB).
    func file(of media: BroadcastMessage.Media, campaign: String) throws(BroadcastError) -> InputFile {
        switch media.parsed {
        case .fileID(let id): return .fileID(id)
        case .url(let url): return .url(url)
        case .path(let path):
            if let known = mediaFiles.withLock({ $0[campaign] }) { return known }
            switch BoundedFile.read(path, maxBytes: Int(BroadcastAPI.maxUpload)) {
            case .success(let bytes):
                let name = (path as NSString).lastPathComponent
                let file = InputFile.upload(FileUpload(filename: name, contentType: FlowNodeReader.contentType(name), bytes: bytes))
                mediaFiles.withLock { $0[campaign] = file }
                return file
            case .failure(let why):
                throw BroadcastError(.invalid, "the media file \(path.prefix(200)) cannot be read: \(why)")
            }
        }
    }

    /// One recipient, as a journaled unit.
    public func sendOne(
        _ message: BroadcastMessage, media: InputFile? = nil, campaign: String, to user: Int64
    ) async throws -> BroadcastOutbox.Outcome {
        let scope = "b:\(campaign):\(user)"
        let result = try await claims.whileHolding(scope) { () async throws -> BroadcastOutbox.Outcome in
            let record = try await journal.load(scope)
            if let done = record.outcome {
                counters.withLock { $0.alreadyDone += 1 }
                return Self.outcome(of: done)
            }
            switch record.steps["s0"] {
            case .started?, .unreadable?:
                // A request was on the wire when a run stopped: the campaign's policy decides.
                if message.onUncertain == .skip {
                    try await journal.finish(scope, .skipped("uncertain"))
                    return .uncertain
                }
            case .done?:
                // Sent, the outcome not recorded yet (a crash in between).
                try await journal.finish(scope, .done)
                return .sent
            case nil:
                break
            }
            let firstName = try await states.state(of: user)?.metadata["first_name"] ?? "there"
            let journal = self.journal
            let keyboard = message.button.flatMap { button in
                message.buttonURL(userID: user).map { InlineKeyboardMarkup([[.link(button.text, url: $0)]]) }
            }
            let text = message.rendered(firstName: firstName, userID: user)
            var outbound: OutboundMessage =
                if let media, let kind = message.media?.kind {
                    OutboundMessage(chatID: user, content: .media(Self.kind(kind), media, caption: text), keyboard: keyboard)
                } else {
                    .text(text, to: user, keyboard: keyboard)
                }
            outbound.allowPaidBroadcast = message.allowPaidBroadcast
            let outcome = try await sender.send(
                outbound, priority: message.allowPaidBroadcast ? .paid : .low,
                beforeDeparture: { try await journal.markStarted(scope, "s0") },
                afterKnownNotSent: { try await journal.clear(scope, "s0") })
            switch outcome {
            case .sent(let messages):
                try await journal.markDone(scope, "s0", .sent(messageID: messages.first?.messageID ?? 0))
                try await journal.finish(scope, .done)
                return .sent
            case .suppressed:
                try await journal.finish(scope, .skipped("suppressed"))
                return .suppressed
            case .failed(let error) where error.code == .forbidden || error.code == .chatNotFound:
                try await journal.finish(scope, .skipped("suppressed"))
                return .suppressed
            case .failed(let error):
                try await journal.finish(scope, .failed(error.code.rawValue))
                return .failed(error.code.rawValue)
            case .retryLater(_, _, let maybeSent):
                guard maybeSent else {
                    try await journal.clear(scope, "s0")
                    return .later
                }
                // It may be with the user: by the policy, left (skip) or tried again later (resend).
                if message.onUncertain == .skip {
                    try await journal.finish(scope, .skipped("uncertain"))
                    return .uncertain
                }
                try await journal.clear(scope, "s0")
                return .later
            case .outOfTime:
                return .later
            }
        }
        // Another runner holds this recipient (a lapsed lease's holder still at it): back in line;
        // the journal tells the next run what happened.
        return result ?? .later
    }

    static func kind(_ kind: BroadcastMessage.Media.Kind) -> InputMedia.Kind {
        switch kind {
        case .photo: .photo
        case .video: .video
        case .document: .document
        }
    }

    /// What a finished unit's outcome counts as.
    static func outcome(of done: UnitOutcome) -> BroadcastOutbox.Outcome {
        switch done {
        case .done: .sent
        case .skipped("suppressed"): .suppressed
        case .skipped: .uncertain
        case .failed(let reason): .failed(reason)
        case .unreadable: .uncertain
        }
    }

    static func shown(_ error: any Error) -> String {
        if let error = error as? RedisError { return "redis \(error.code.rawValue)" }
        if let error = error as? BroadcastError { return error.description }
        return "\(type(of: error))"
    }
}
