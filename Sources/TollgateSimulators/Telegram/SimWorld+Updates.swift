/// Update queue: long-poll selection with offsets, and webhook scheduling.
extension SimWorld {
    /// The update kinds delivered now (`allowed_updates`, or Telegram's default set).
    var allowedKinds: Set<String> {
        guard let allowedUpdates, !allowedUpdates.isEmpty else { return Self.defaultAllowed }
        return Set(allowedUpdates)
    }

    /// Confirms updates before `offset` (a negative offset keeps only the last `-offset`).
    mutating func confirm(offset: Int64) {
        let before = pending.count
        if offset > 0 {
            pending.removeAll { $0.id < offset }
        } else if offset < 0 {
            let keep = Int(min(-offset, Int64(pending.count)))
            pending.removeFirst(pending.count - keep)
        }
        counters.updatesDelivered += before - pending.count
    }

    /// Up to `limit` deliverable updates, dropping those of kinds not allowed.
    mutating func select(limit: Int) -> [[UInt8]] {
        let allowed = allowedKinds
        pending.removeAll { !allowed.contains($0.kind) }
        return pending.prefix(limit).map(\.json)
    }

    /// Whether an update is ready for a long poll.
    var hasDeliverable: Bool {
        let allowed = allowedKinds
        return pending.contains { allowed.contains($0.kind) }
    }

    /// Updates the webhook may POST now: in order, at most one in flight per chat, an update
    /// waits behind an earlier one of its chat, within `max_connections`. Marks them in flight.
    mutating func takeWebhookBatch() -> (items: [(id: Int64, json: [UInt8])], nextRetry: Double?) {
        guard let webhook else { return ([], nil) }
        let allowed = allowedKinds
        pending.removeAll { !allowed.contains($0.kind) && !$0.inFlight }
        var inFlight = pending.filter(\.inFlight).count
        var busyChats = Set(pending.filter(\.inFlight).map(\.chatID))
        var items: [(Int64, [UInt8])] = []
        var nextRetry: Double?
        let time = now
        for index in pending.indices {
            guard inFlight < webhook.maxConnections else { break }
            let update = pending[index]
            guard !update.inFlight, !busyChats.contains(update.chatID) else { continue }
            busyChats.insert(update.chatID)  // later updates of this chat wait behind it
            if update.retryAt > time {
                nextRetry = min(nextRetry ?? update.retryAt, update.retryAt)
                continue
            }
            pending[index].inFlight = true
            pending[index].attempts += 1
            inFlight += 1
            items.append((update.id, update.json))
        }
        return (items, nextRetry)
    }

    /// Records the outcome of one webhook POST.
    mutating func webhookResult(id: Int64, success: Bool, retryAfter: Double?, error: String?, baseDelay: Double, maxDelay: Double) {
        counters.webhookAttempts += 1
        guard let index = pending.firstIndex(where: { $0.id == id }) else { return }
        if success {
            pending.remove(at: index)
            counters.updatesDelivered += 1
            return
        }
        counters.webhookFailures += 1
        let attempts = pending[index].attempts
        let backoff = min(maxDelay, baseDelay * Double(1 << min(attempts - 1, 16)))
        pending[index].inFlight = false
        pending[index].retryAt = now + max(retryAfter ?? 0, backoff)
        webhook?.lastErrorDate = Self.unixTime
        webhook?.lastErrorMessage = error
    }
}
