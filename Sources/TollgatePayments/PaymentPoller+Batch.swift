import TollgateNocoDB

extension PaymentPoller {
    struct Round {
        var worked: Bool
        var nextDueMs: Int64?
        var nowMs: Int64
    }

    /// Checks the watches that are due (or expired) now, up to `batchesPerRound` batches, or fewer
    /// when `until` passes (so that delta cycles keep their cadence during a long sweep).
    func batchRound(mode: PaymentsConfig.Mode, until: ContinuousClock.Instant? = nil) async throws -> Round {
        let set = try await store.dueSet(limit: config.batchSize * config.batchesPerRound)
        stats.update { $0.activeWatches = set.active }
        var users: [Int64] = []
        var seen = Set<Int64>()
        for user in set.due + set.expired where seen.insert(user).inserted { users.append(user) }
        guard !users.isEmpty else { return Round(worked: false, nextDueMs: set.nextDueMs, nowMs: set.nowMs) }
        let watches = try await store.load(users)
        let loaded = Set(watches.map(\.userID))
        for orphan in users where !loaded.contains(orphan) {
            // A due entry without its watch (removed meanwhile): drop the leftovers.
            try await store.unwatch(userID: orphan)
        }
        // Up to `requestConcurrency` batches in flight: the limiter still spaces the requests, and
        // a reply slower than the spacing no longer slows the pass down.
        let plans = PaymentBatchPlan.plan(watches, maxIDs: config.batchSize)
        let now = set.nowMs
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for plan in plans {
                try Task.checkCancellation()
                // Watches left unchecked stay due and come first in the next round.
                if let until, ContinuousClock.now >= until { break }
                if inFlight >= config.requestConcurrency {
                    try await group.next()
                    inFlight -= 1
                }
                group.addTask { try await self.check(plan, mode: mode, nowMs: now) }
                inFlight += 1
            }
            try await group.waitForAll()
        }
        stats.update { $0.cycles += 1 }
        return Round(worked: true, nextDueMs: set.nextDueMs, nowMs: set.nowMs)
    }

    /// One batch request and what follows from it: confirmations, expiries, next checks.
    func check(_ plan: PaymentBatchPlan, mode: PaymentsConfig.Mode, nowMs: Int64) async throws {
        let query = plan.query(
            telegramField: config.nocodb.telegramIDField, paidField: config.nocodb.paidField, limit: config.batchSize,
            extraFields: config.nocodb.paidUntilField.map { [$0] } ?? [])
        let rows = try await nocodb.listAll(query, maxRows: config.batchSize * 20)
        let batchWatches = plan.watches
        stats.update {
            $0.batches += 1
            $0.batchedWatches += batchWatches.count
            $0.userChecks += batchWatches.count
        }
        let confirmations = plan.confirmations(
            rows: rows, telegramField: config.nocodb.telegramIDField, paidField: config.nocodb.paidField,
            isPaid: { [config] in config.nocodb.isPaid($0, nowMs: nowMs) })
        for confirmation in confirmations { try await confirm(confirmation) }
        let paid = Set(confirmations.map(\.watch.userID))
        var alive: [PaymentWatch] = []
        for watch in batchWatches where !paid.contains(watch.userID) {
            if watch.expiresMs <= nowMs {
                try await expire(watch)
            } else {
                alive.append(watch)
            }
        }
        try await store.markChecked(alive) { watch in self.nextCheck(watch, mode: mode, nowMs: nowMs) }
    }

    /// When to check `watch` again: by the cadence in batch mode, the sweep interval in delta mode.
    func nextCheck(_ watch: PaymentWatch, mode: PaymentsConfig.Mode, nowMs: Int64) -> Duration {
        switch mode {
        case .batch: config.cadence.interval(forAge: .milliseconds(max(0, nowMs - watch.createdMs)))
        case .delta: config.sweepInterval
        }
    }

    /// Paid: the confirmation, then the reminders, then the watch — each step idempotent, in this
    /// order, so a crash between steps repeats nothing the user can see.
    func confirm(_ confirmation: PaymentConfirmation) async throws {
        let watch = confirmation.watch
        try await outcomes.confirmPayment(confirmation)
        try await outcomes.cancelReminders(userID: watch.userID)
        try await store.unwatch(userID: watch.userID, watchID: watch.watchID)
        stats.update { $0.confirmed += 1 }
        logger.info(
            "payment confirmed",
            metadata: ["user": "\(watch.userID)", "record": "\(confirmation.recordID)", "watch": "\(watch.watchID)"])
    }

    /// Expired unpaid: the optional notice, then the watch.
    func expire(_ watch: PaymentWatch) async throws {
        if watch.notifyExpired { try await outcomes.expirePayment(watch) }
        try await store.unwatch(userID: watch.userID, watchID: watch.watchID)
        stats.update { $0.expired += 1 }
        logger.info("payment watch expired", metadata: ["user": "\(watch.userID)", "watch": "\(watch.watchID)"])
    }
}
