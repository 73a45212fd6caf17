/// The work a job carries, one case per job kind: the shape of `schedule`'s and `deliver`'s
/// `payload` (Protocols/scheduler.md, "Job kinds and payloads").
///
/// Both services read a payload only through ``init(kind:payload:)``: the poller when it is
/// scheduled (a bad one is refused with `invalid_payload`, nothing stored), the gateway when it is
/// delivered (a bad one — stored before the check existed, or written into Redis by hand — is
/// answered `failed` and dead-lettered, never a trap). A payload has no members beyond its kind's.
public enum DueWork: Sendable, Equatable {
    /// A flow reminder: the flow step's name and the payment request (state version) it belongs to.
    case reminder(step: String, cycle: Int64?)
    /// A payment was confirmed: the NocoDB row.
    case paymentConfirmed(recordID: Int64?)
    /// A watched payment expired unpaid.
    case paymentExpired(recordID: Int64?)
    /// A text to send as it is.
    case message(text: String)
    /// The club's door: a renewal reminder (the flow's `renewal_reminders` step) before the paid
    /// period ending at `untilMs` (Unix ms) ends; shown only while that is still the period's end.
    case accessReminder(step: String, untilMs: Int64)
    /// The club's door: the paid period ending at `untilMs` is over — unless it was renewed
    /// meanwhile, the member is shown out and told how to renew.
    case accessLapse(untilMs: Int64)

    /// The job kinds, as `schedule`'s `kind`.
    public static let kinds = ["reminder", "payment_confirmed", "payment_expired", "message", "access_reminder", "access_lapse"]

    /// The largest payload accepted, in bytes of its JSON (`JOB_PAYLOAD_MAX_BYTES` is not
    /// configurable: a payload this size still fits a `deliver` frame of the smallest
    /// `IPC_MAX_FRAME_BYTES`-sized batch many times over, and no kind needs more than ~17 KiB).
    public static let maxPayloadBytes = 16 * 1024

    /// The largest integer a payload may hold exactly (2^53: a JSON number both sides read alike).
    public static let maxInteger: Int64 = 1 << 53

    /// Reads `payload` as the shape of `kind`.
    ///
    /// - Throws: ``IPCError`` `invalid_payload` naming the member (`payload.cycle`) and the rule.
    public init(kind: String, payload: [String: JSONValue]) throws(IPCError) {
        switch kind {
        case "reminder":
            try Self.allow(["step", "cycle"], in: payload)
            let step = try Self.string("step", in: payload, required: true, max: 40)!
            guard Self.isStepName(step) else {
                throw Self.invalid("step", "must be 1-40 characters of A-Z a-z 0-9 _ -")
            }
            self = .reminder(step: step, cycle: try Self.integer("cycle", in: payload, range: 0...Self.maxInteger))
        case "payment_confirmed", "payment_expired":
            try Self.allow(["record_id"], in: payload)
            let record = try Self.integer("record_id", in: payload, range: 1...Self.maxInteger)
            self = kind == "payment_confirmed" ? .paymentConfirmed(recordID: record) : .paymentExpired(recordID: record)
        case "message":
            try Self.allow(["text"], in: payload)
            let text = try Self.string("text", in: payload, required: true, max: 4096)!
            self = .message(text: text)
        case "access_reminder":
            try Self.allow(["step", "until_ms"], in: payload)
            let step = try Self.string("step", in: payload, required: true, max: 40)!
            guard Self.isStepName(step) else {
                throw Self.invalid("step", "must be 1-40 characters of A-Z a-z 0-9 _ -")
            }
            self = .accessReminder(step: step, untilMs: try Self.untilMs(in: payload))
        case "access_lapse":
            try Self.allow(["until_ms"], in: payload)
            self = .accessLapse(untilMs: try Self.untilMs(in: payload))
        default:
            throw IPCError(
                .invalidPayload, "unknown job kind '\(kind.prefix(40))' (one of \(Self.kinds.joined(separator: ", ")))",
                details: .object(["field": .string("kind")]))
        }
    }

    /// The job kind.
    public var kind: String {
        switch self {
        case .reminder: "reminder"
        case .paymentConfirmed: "payment_confirmed"
        case .paymentExpired: "payment_expired"
        case .message: "message"
        case .accessReminder: "access_reminder"
        case .accessLapse: "access_lapse"
        }
    }

    /// The payload as it goes on the wire.
    public var payload: [String: JSONValue] {
        switch self {
        case .reminder(let step, let cycle):
            var p: [String: JSONValue] = ["step": .string(step)]
            if let cycle { p["cycle"] = .number(Double(min(max(0, cycle), Self.maxInteger))) }
            return p
        case .paymentConfirmed(let record), .paymentExpired(let record):
            return record.map { ["record_id": .number(Double(min(max(1, $0), Self.maxInteger)))] } ?? [:]
        case .message(let text):
            return ["text": .string(text)]
        case .accessReminder(let step, let until):
            return ["step": .string(step), "until_ms": .number(Double(min(max(1, until), Self.maxUntilMs)))]
        case .accessLapse(let until):
            return ["until_ms": .number(Double(min(max(1, until), Self.maxUntilMs)))]
        }
    }

    /// The latest end of a paid period (2100-01-01, as a job's due time).
    public static let maxUntilMs: Int64 = 4_102_444_800_000

    private static func untilMs(in payload: [String: JSONValue]) throws(IPCError) -> Int64 {
        guard let until = try integer("until_ms", in: payload, range: 1...maxUntilMs) else { throw invalid("until_ms", "is required") }
        return until
    }

    /// Flow step names: 1-40 of `A-Z a-z 0-9 _ -`.
    public static func isStepName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 40
            && s.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
            }
    }

    // MARK: Reading members

    static func invalid(_ field: String, _ rule: String) -> IPCError {
        IPCError(.invalidPayload, "'payload.\(field)' \(rule)", details: .object(["field": .string("payload.\(field)")]))
    }

    private static func allow(_ members: Set<String>, in payload: [String: JSONValue]) throws(IPCError) {
        if let extra = payload.keys.sorted().first(where: { !members.contains($0) }) {
            let shown = extra.count > 40 ? String(extra.prefix(40)) + "..." : extra
            throw invalid(shown, "is not a member of this kind's payload (allowed: \(members.sorted().joined(separator: ", ")))")
        }
    }

    private static func string(
        _ key: String, in payload: [String: JSONValue], required: Bool, max: Int
    ) throws(IPCError) -> String? {
        switch payload[key] {
        case nil, .null?:
            if required { throw invalid(key, "is required") }
            return nil
        case .string(let s)?:
            guard !s.isEmpty, s.utf16.count <= max else { throw invalid(key, "must be 1-\(max) characters") }
            return s
        default:
            throw invalid(key, "must be a string")
        }
    }

    private static func integer(
        _ key: String, in payload: [String: JSONValue], range: ClosedRange<Int64>
    ) throws(IPCError) -> Int64? {
        switch payload[key] {
        case nil, .null?:
            return nil
        case .number(let n)?:
            guard let value = Int64(exactly: n), range.contains(value) else {
                throw invalid(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        default:
            throw invalid(key, "must be an integer")
        }
    }
}
