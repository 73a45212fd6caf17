extension Schedule: IPCValidating {
    public func validate() throws(IPCError) {
        switch (dueAtMs, delayMs) {
        case (nil, nil), (.some, .some):
            throw IPCError(.invalidRequest, "exactly one of 'body.due_at_ms' and 'body.delay_ms' must be given")
        case (.some(let at), nil) where at < 0:
            throw IPCError(.invalidRequest, "'body.due_at_ms' must not be negative")
        case (nil, .some(let delay)) where delay < 0:
            throw IPCError(.invalidRequest, "'body.delay_ms' must not be negative")
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
    }

    /// The job kinds the gateway knows how to deliver.
    public static let kinds = ["reminder", "payment_confirmed", "payment_expired", "message"]

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
    public func validate() throws(IPCError) {
        if recordID == nil && (telegramID?.isEmpty ?? true) {
            throw IPCError(.invalidRequest, "one of 'body.record_id' and 'body.telegram_id' must be given")
        }
        if let recordID, recordID < 1 {
            throw IPCError(.invalidRequest, "'body.record_id' must be positive")
        }
        if let expiresInMs, expiresInMs < 1000 {
            throw IPCError(.invalidRequest, "'body.expires_in_ms' must be at least 1000")
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
