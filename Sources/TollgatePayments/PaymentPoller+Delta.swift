import TollgateCore
import TollgateNocoDB

#if canImport(Glibc)
    import Glibc
#endif

extension PaymentPoller {
    enum DeltaOutcome: Equatable {
        case done
        case noUpdatedAt
    }

    /// One delta cycle: the rows changed since the cursor (minus the overlap), page by page;
    /// paid rows are matched to watches through the record/Telegram id indexes. The cursor moves
    /// only after the cycle's confirmations were arranged.
    func deltaCycle() async throws -> DeltaOutcome {
        let telegramField = config.nocodb.telegramIDField
        let paidField = config.nocodb.paidField
        guard let cursor = try await store.cursor() else { return try await startCursor() }
        // The cursor is read from Redis: one that no honest cycle could have stored (before 1970,
        // or past the ceiling) starts the cursor again, which also checks every watch once.
        let ceiling = Self.wallClockMs().saturatingPlus(Self.futureSkew.milliseconds)
        guard (0...ceiling).contains(cursor) else {
            logger.warning("the stored delta cursor is out of range; starting it again", metadata: ["cursor": "\(cursor)"])
            return try await startCursor()
        }
        var walk = PaymentDeltaWalk(
            cursorMs: cursor, overlap: config.deltaOverlap, pageLimit: config.batchSize, ceilingMs: ceiling)
        var finished = false
        while walk.pages < Self.maxDeltaPages {
            try Task.checkCancellation()
            guard let page = try await listUnlessNoUpdatedAt(walk.query(
                telegramField: telegramField, paidField: paidField, extraFields: config.nocodb.paidUntilField.map { [$0] } ?? []))
            else { return .noUpdatedAt }
            let (fresh, step) = walk.consume(page.list)
            if step == .noUpdatedAt { return .noUpdatedAt }
            let nowMs = Self.wallClockMs()
            try await settle(fresh.filter { config.nocodb.isPaid($0, nowMs: nowMs) })
            if step == .done {
                finished = true
                break
            }
        }
        // A walk cut short by the page cap keeps what it read completely: every second before
        // its lower bound. The next cycle goes on from there.
        let next = finished ? walk.maxUpdatedMs : max(cursor, walk.lowerMs)
        if !finished {
            logger.info("delta walk paused after \(walk.pages) pages; the next cycle goes on", metadata: ["cursor": "\(next)"])
        }
        try await store.setCursor(next)
        let active = try await store.count()
        stats.update {
            $0.cycles += 1
            $0.deltaCycles += 1
            $0.userChecks = $0.userChecks.saturatingPlus(active)
            $0.activeWatches = active
            $0.cursorMs = next
        }
        return .done
    }

    /// First delta cycle ever (or after the cursor was lost): the walk starts at the second of the
    /// table's latest `UpdatedAt`, and every watch is checked once by batch so that nothing paid
    /// before that moment is missed.
    func startCursor() async throws -> DeltaOutcome {
        guard
            let latest = try await listUnlessNoUpdatedAt(
                NocoDBQuery(limit: 1, sort: [.descending("UpdatedAt")], fields: ["Id", "UpdatedAt"]))
        else { return .noUpdatedAt }
        var cursor: Int64 = 0
        if let row = latest.list.first {
            guard let updated = row.updatedAtMs else { return .noUpdatedAt }
            // The first walk then starts at that row's second: everything older is covered by the
            // sweep below, everything newer is read.
            cursor = min(updated, Self.wallClockMs().saturatingPlus(Self.futureSkew.milliseconds))
                .saturatingPlus(config.deltaOverlap.milliseconds)
        }
        try await store.makeAllDue()
        try await store.setCursor(cursor)
        stats.update { $0.cursorMs = cursor }
        logger.info("delta cursor started", metadata: ["cursor": "\(NocoDBTimestamp.format(cursor))"])
        return .done
    }

    /// Confirms the watches of paid rows.
    func settle(_ paidRows: [NocoDBRecord]) async throws {
        guard !paidRows.isEmpty else { return }
        let telegramField = config.nocodb.telegramIDField
        var byRecord: [Int64: NocoDBRecord] = [:]
        var byTelegram: [String: NocoDBRecord] = [:]
        for row in paidRows {
            if let id = row.id { byRecord[id] = row }
            if let tg = row[telegramField]?.text, !tg.isEmpty { byTelegram[tg] = row }
        }
        let users = try await store.users(records: Array(byRecord.keys), telegramIDs: Array(byTelegram.keys))
        for watch in try await store.load(Array(users)) {
            let row: NocoDBRecord?
            switch watch.reference {
            case .record(let id): row = byRecord[id]
            case .telegram(let tg): row = byTelegram[tg]
            }
            guard let row, let recordID = row.id else { continue }
            try await confirm(PaymentConfirmation(watch: watch, recordID: recordID, paidAtMs: row.updatedAtMs))
        }
    }

    /// A list request, or nil when NocoDB answers that the table has no `UpdatedAt` column.
    func listUnlessNoUpdatedAt(_ query: NocoDBQuery) async throws(NocoDBError) -> NocoDBPage? {
        do {
            return try await nocodb.list(query)
        } catch {
            if Self.isMissingUpdatedAt(error) { return nil }
            throw error
        }
    }

    /// Pages one delta cycle reads at most (a server that ignores `offset` must not hold it for ever).
    static let maxDeltaPages = 100
    /// How far ahead of this machine's clock a row's `UpdatedAt` may lie and still move the cursor.
    static let futureSkew: Duration = .seconds(300)

    static func wallClockMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    static func isMissingUpdatedAt(_ error: NocoDBError) -> Bool {
        error.code == .invalidRequest && error.message.contains("UpdatedAt")
    }
}
