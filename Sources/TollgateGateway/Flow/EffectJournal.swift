import Foundation
import TollgateCore
import TollgateRedis

/// Which effects of one unit of work (an update, a delivered job) have happened, so that a replay
/// after a crash repeats none of them: one Redis hash per unit (`<prefix>:gw:fx:<scope>`), kept
/// for ``retention``.
///
/// Fields: `plan` (the phase the unit was planned with), `s<index>` for each step of the plan, and
/// `outcome` for the whole unit, each a versioned record (``StepMark``, ``UnitOutcome``) written and
/// read here alone. The only window left is between Telegram accepting a message and its `done`
/// record reaching Redis: a replay finds `started` and the step's policy decides
/// (``UnitDecisions``, ``FlowSend/OnUncertain``).
public struct EffectJournal: Sendable {
    let redis: RedisClientPool
    let keys: KeySpace
    public let retention: Duration
    /// Wall-clock milliseconds for the records' `at` (injected by tests).
    let now: @Sendable () -> Int64

    public init(
        redis: RedisClientPool, keys: KeySpace, retention: Duration = .seconds(3 * 86400),
        now: @escaping @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
    ) {
        self.redis = redis
        self.keys = keys
        self.retention = retention
        self.now = now
    }

    /// A unit's record: step marks and its final outcome.
    public struct Record: Sendable, Hashable {
        public var steps: [String: StepMark] = [:]
        public var outcome: UnitOutcome?

        public init(steps: [String: StepMark] = [:], outcome: UnitOutcome? = nil) {
            self.steps = steps
            self.outcome = outcome
        }

        /// The result of a finished step.
        public func result(_ step: String) -> StepResult? {
            if case .done(let result) = steps[step] { return result }
            return nil
        }
    }

    func key(_ scope: String) -> String { keys("gw", "fx", scope) }

    public func load(_ scope: String) async throws(RedisError) -> Record {
        let reply = try await redis.next().send("HGETALL", RedisArgument(key(scope)))
        var record = Record()
        guard let items = reply.array else { return record }
        var index = 0
        while index + 1 < items.count {
            if let name = items[index].string, let value = items[index + 1].string {
                if name == "outcome" {
                    record.outcome = UnitOutcome(stored: value)
                } else {
                    record.steps[name] = StepMark(stored: value, field: name)
                }
            }
            index += 2
        }
        return record
    }

    /// A request of this step's send is about to go out.
    public func markStarted(_ scope: String, _ step: String) async throws(RedisError) {
        try await set(scope, step, StepMark.started.stored(at: now()))
    }

    public func markDone(_ scope: String, _ step: String, _ result: StepResult) async throws(RedisError) {
        try await set(scope, step, StepMark.done(result).stored(at: now()))
    }

    /// Forgets a started mark (the send is known not to have gone out).
    public func clear(_ scope: String, _ step: String) async throws(RedisError) {
        try await redis.next().send("HDEL", RedisArgument(key(scope)), RedisArgument(step))
    }

    public func finish(_ scope: String, _ outcome: UnitOutcome) async throws(RedisError) {
        try await set(scope, "outcome", outcome.stored(at: now()))
    }

    private func set(_ scope: String, _ field: String, _ value: String) async throws(RedisError) {
        let k = RedisArgument(key(scope))
        let replies = try await redis.next().pipeline([
            ["HSET", k, RedisArgument(field), RedisArgument(value)],
            ["PEXPIRE", k, RedisArgument(max(1000, retention.milliseconds))],
        ])
        if let message = replies.first?.errorMessage { throw RedisError(.serverError, message) }
    }
}

// MARK: - Records

/// What the journal holds for one step.
public enum StepMark: Sendable, Hashable {
    /// A request of the step's send was on the wire: Telegram may or may not have the message.
    case started
    case done(StepResult)
    /// A record this version cannot read (a newer format, a damaged value): treated like
    /// `started` — nobody can tell whether the step's effect happened.
    case unreadable
}

/// What a finished step left for the steps after it, and for a replay.
public enum StepResult: Sendable, Hashable, Codable {
    /// Nothing to remember (a callback answered, a payment watched, reminders scheduled).
    case plain
    /// The phase, state version and offer the unit was planned with (the `plan` field; `topic`
    /// empty: none; absent: recorded before offers were, planned with the current one).
    case plan(phase: UserPhase?, version: Int64, topic: String? = nil)
    /// The user's NocoDB row.
    case record(id: Int64)
    case moved(version: Int64)
    case alreadyThere(version: Int64)
    case refused
    case sent(messageID: Int64)
    /// A send left uncertain by a crash, skipped by its policy.
    case uncertainSkipped
    /// The chat blocked the bot or is gone.
    case suppressed
    /// Telegram refused the message for good.
    case failed
    /// No NocoDB row to watch.
    case noRecord
    case cancelled(count: Int)
    /// The user's invite links to the club, as sent.
    case invites(links: [String])
    /// What the club's door did (`approved`, `declined`, `admitted`, `removed`, `ignored`).
    case door(String)
    /// Access granted, at this ledger version, until `untilMs` (nil: no end), for `offer` (empty:
    /// the whole club; absent: recorded before offers were).
    case granted(version: Int64, untilMs: Int64? = nil, offer: String? = nil)
    /// What ``FlowStep/renewFromRecord(untilMs:)`` found: the period's new end, or nil (not
    /// renewed), and the offer in force after it.
    case renewal(untilMs: Int64?, offer: String? = nil)
    /// A number written by the first format (a row id or a count), read by the step it belongs to.
    case legacyNumber(Int64)
}

/// How a unit ended; a unit with an outcome is never run again.
public enum UnitOutcome: Sendable, Hashable, Codable {
    case done
    case skipped(String)
    case failed(String)
    /// Recorded by a format this version cannot read: finished, by whom we cannot say.
    case unreadable
}

/// The stored form: `{"v":1,"at":<ms>,"mark":...}` — a version first, so a later format can be
/// told apart; values without `{` are the first format (`s`, `d:<result>`, `done`,
/// `skipped:<reason>`), written by versions before typed records and read for as long as a
/// record lives (three days).
extension StepMark {
    static let version = 1

    private struct Stored: Codable {
        var v: Int
        var at: Int64?
        var done: StepResult?
    }

    /// The stored form, stamped with wall-clock milliseconds `at`.
    public func stored(at: Int64) -> String {
        switch self {
        case .started: encodeRecord(Stored(v: Self.version, at: at, done: nil))
        case .done(let result): encodeRecord(Stored(v: Self.version, at: at, done: result))
        case .unreadable: encodeRecord(Stored(v: 0, at: at, done: nil))
        }
    }

    /// Reads a stored record of step `field`: any text gives a mark (``unreadable`` when it is
    /// neither format), never a trap.
    public init(stored value: String, field: String) {
        guard value.first == "{" else {
            self = Self.legacy(value, field: field)
            return
        }
        guard let record = decodeRecord(Stored.self, value), record.v == Self.version else {
            self = .unreadable
            return
        }
        self = record.done.map { .done($0) } ?? .started
    }

    private static func legacy(_ value: String, field: String) -> StepMark {
        if value == "s" { return .started }
        guard value.hasPrefix("d:") else { return .unreadable }
        let text = value.dropFirst(2)
        if field == "plan" {
            let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let version = Int64(parts[1]) else { return .unreadable }
            return .done(.plan(phase: UserPhase(rawValue: String(parts[0])), version: version))
        }
        switch text {
        case "": return .done(.plain)
        case "r": return .done(.refused)
        case "ambiguous-skipped": return .done(.uncertainSkipped)
        case "suppressed": return .done(.suppressed)
        case "failed": return .done(.failed)
        case "no-record": return .done(.noRecord)
        default: break
        }
        if let n = Int64(text) { return .done(.legacyNumber(n)) }
        for (prefix, make) in [
            ("m:", StepResult.moved(version:)), ("a:", StepResult.alreadyThere(version:)), ("sent:", StepResult.sent(messageID:)),
        ] where text.hasPrefix(prefix) {
            guard let n = Int64(text.dropFirst(prefix.count)) else { return .unreadable }
            return .done(make(n))
        }
        return .unreadable
    }
}

extension UnitOutcome {
    private struct Stored: Codable {
        var v: Int
        var at: Int64?
        var outcome: UnitOutcome
    }

    public func stored(at: Int64) -> String { encodeRecord(Stored(v: StepMark.version, at: at, outcome: self)) }

    /// Reads a stored outcome: any text gives one (``unreadable`` when it is neither format).
    public init(stored value: String) {
        guard value.first == "{" else {
            if value == "done" {
                self = .done
            } else if value.hasPrefix("skipped:") {
                self = .skipped(String(value.dropFirst(8)))
            } else if value.hasPrefix("failed:") {
                self = .failed(String(value.dropFirst(7)))
            } else {
                self = .unreadable
            }
            return
        }
        guard let record = decodeRecord(Stored.self, value), record.v == StepMark.version else {
            self = .unreadable
            return
        }
        self = record.outcome
    }
}

private func encodeRecord<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Encoding these plain values cannot fail; an empty object would read back as unreadable.
    guard let data = try? encoder.encode(value) else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}

private func decodeRecord<T: Decodable>(_ type: T.Type, _ value: String) -> T? {
    try? JSONDecoder().decode(type, from: Data(value.utf8))
}
