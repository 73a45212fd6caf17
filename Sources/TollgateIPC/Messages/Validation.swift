extension Schedule: IPCValidating {
    /// The latest due time accepted: 2100-01-01 (a job due later was never meant).
    public static let latestDueAtMs: Int64 = 4_102_444_800_000
    /// The longest delay accepted: 10 years.
    public static let longestDelayMs: Int64 = 10 * 365 * 86_400_000

    public func validate() throws(IPCError) {
        switch (dueAtMs, delayMs) {
        case (nil, nil), (.some, .some):
            throw IPCError(.invalidRequest, "exactly one of 'body.due_at_ms' and 'body.delay_ms' must be given")
        case (.some(let at), nil) where !(0...Self.latestDueAtMs).contains(at):
            throw IPCError(.invalidRequest, "'body.due_at_ms' must be from 0 to \(Self.latestDueAtMs) (2100-01-01)")
        case (nil, .some(let delay)) where !(0...Self.longestDelayMs).contains(delay):
            throw IPCError(.invalidRequest, "'body.delay_ms' must be from 0 to \(Self.longestDelayMs) (10 years)")
        default: break
        }
        if let jobID, !Self.isValidJobID(jobID) {
            throw IPCError(.invalidRequest, "'body.job_id' must be 1-200 characters of A-Z a-z 0-9 . _ : @ -")
        }
        if let dedupeKey, dedupeKey.isEmpty || dedupeKey.utf8.count > 200 {
            throw IPCError(.invalidRequest, "'body.dedupe_key' must be 1-200 bytes")
        }
        if let maxAttempts, !(1...100).contains(maxAttempts) {
            throw IPCError(.invalidRequest, "'body.max_attempts' must be between 1 and 100")
        }
        guard Self.kinds.contains(kind) else {
            throw IPCError(.invalidRequest, "'body.kind' must be one of \(Self.kinds.joined(separator: ", "))")
        }
        let size = (try? IPCCoding.encode(payload).count) ?? Int.max
        guard size <= DueWork.maxPayloadBytes else {
            throw IPCError(
                .invalidPayload, "'payload' is \(size) bytes; at most \(DueWork.maxPayloadBytes) are accepted",
                details: .object(["field": .string("payload")]))
        }
        _ = try DueWork(kind: kind, payload: payload)
    }

    /// The job kinds the gateway knows how to deliver.
    public static var kinds: [String] { DueWork.kinds }

    public static func isValidJobID(_ id: String) -> Bool {
        guard !id.isEmpty, id.utf8.count <= 200 else { return false }
        return id.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: ":")
                || b == UInt8(ascii: "@") || b == UInt8(ascii: "-")
        }
    }
}

extension Cancel: IPCValidating {
    public func validate() throws(IPCError) {
        switch (jobID, userID) {
        case (nil, nil), (.some, .some):
            throw IPCError(.invalidRequest, "exactly one of 'body.job_id' and 'body.user_id' must be given")
        case (.some, nil) where kind != nil:
            throw IPCError(.invalidRequest, "'body.kind' applies only with 'body.user_id'")
        default: break
        }
    }
}

extension WatchPayment: IPCValidating {
    /// The longest watch accepted: a year.
    public static let longestExpiryMs: Int64 = 365 * 86_400_000

    public func validate() throws(IPCError) {
        if recordID == nil && (telegramID?.isEmpty ?? true) {
            throw IPCError(.invalidRequest, "one of 'body.record_id' and 'body.telegram_id' must be given")
        }
        if let recordID, recordID < 1 {
            throw IPCError(.invalidRequest, "'body.record_id' must be positive")
        }
        if let expiresInMs, !(1000...Self.longestExpiryMs).contains(expiresInMs) {
            throw IPCError(.invalidRequest, "'body.expires_in_ms' must be from 1000 to \(Self.longestExpiryMs) (1 year)")
        }
        if let telegramID, telegramID.utf8.count > 64 {
            throw IPCError(.invalidRequest, "'body.telegram_id' must be at most 64 bytes")
        }
    }
}

extension Deliver: IPCValidating {
    public func validate() throws(IPCError) {
        guard !deliveries.isEmpty, deliveries.count <= Self.maxBatch else {
            throw IPCError(.invalidRequest, "'body.deliveries' must hold 1 to \(Self.maxBatch) deliveries")
        }
    }
}
