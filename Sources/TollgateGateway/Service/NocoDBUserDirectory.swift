import Logging
import Synchronization
import TollgateNocoDB

/// Find-or-create of users' NocoDB rows, batched: the calls that arrive within a few milliseconds
/// of each other (different chats handled concurrently) become one `list` with
/// `(TelegramId,in,a,b,c,...)` and one bulk `create` of the missing rows (`Paid = false`) — two
/// requests for up to 100 users instead of two per user, all through the NocoDB client's shared
/// limiter (one budget per token with the payment poller).
public final class NocoDBUserDirectory: UserDirectory {
    /// One caller's place in a batch.
    final class Ticket: Sendable {
        private let state = Mutex<(result: Result<Int64, any Error>?, waiter: CheckedContinuation<Int64, any Error>?)>((nil, nil))

        func resolve(_ result: Result<Int64, any Error>) {
            let waiter = state.withLock { s -> CheckedContinuation<Int64, any Error>? in
                s.result = result
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(with: result)
        }

        func value() async throws -> Int64 {
            try await withCheckedThrowingContinuation { c in
                let ready = state.withLock { s -> Result<Int64, any Error>? in
                    if let r = s.result { return r }
                    s.waiter = c
                    return nil
                }
                if let ready { c.resume(with: ready) }
            }
        }
    }

    struct State {
        var pending: [Int64: [Ticket]] = [:]
        var flushing = false
    }

    let client: NocoDBClient
    let window: Duration
    let maxBatch: Int
    let logger: Logger
    private let state = Mutex(State())

    public init(client: NocoDBClient, window: Duration = .milliseconds(20), logger: Logger) {
        self.client = client
        self.window = window
        self.maxBatch = max(1, min(100, client.options.pageLimit))
        self.logger = logger
    }

    public func findOrCreate(telegramID: Int64, firstName: String, username: String?) async throws -> Int64 {
        let ticket = Ticket()
        let leads = state.withLock { s -> Bool in
            s.pending[telegramID, default: []].append(ticket)
            if s.flushing { return false }
            s.flushing = true
            return true
        }
        if leads {
            // Gather the calls that arrive meanwhile, then flush every batch until none is left.
            try? await Task.sleep(for: window)
            await flushAll()
        }
        return try await ticket.value()
    }

    /// Flushes batches until nothing is pending, then lets the next caller lead.
    private func flushAll() async {
        while true {
            let batch = state.withLock { s -> [Int64: [Ticket]] in
                let ids = Array(s.pending.keys.sorted().prefix(maxBatch))
                var taken: [Int64: [Ticket]] = [:]
                for id in ids { taken[id] = s.pending.removeValue(forKey: id) }
                if taken.isEmpty { s.flushing = false }
                return taken
            }
            if batch.isEmpty { return }
            do {
                let rows = try await resolve(Array(batch.keys))
                for (id, tickets) in batch {
                    let result: Result<Int64, any Error> =
                        rows[id].map { .success($0) } ?? .failure(NocoDBError(.invalidResponse, "no row for the user after create"))
                    for t in tickets { t.resolve(result) }
                }
            } catch {
                for tickets in batch.values { for t in tickets { t.resolve(.failure(error)) } }
            }
        }
    }

    public func paymentRecord(_ recordID: Int64) async throws -> PaymentRecord? {
        let config = client.config
        guard let row = try await client.get(id: recordID, fields: config.paymentFields) else { return nil }
        return PaymentRecord(
            paid: row[config.paidField]?.isTruthy == true,
            paidUntilMs: config.paidUntilField.flatMap { PaidUntil.milliseconds(row[$0]) },
            offer: config.offerField.flatMap { Self.offerCell(row[$0]) })
    }

    /// What an offer column's cell names: its text, trimmed and lowercased (offer ids are), at most
    /// 64 characters; a cell that is not text or a number (a link, a lookup) names something
    /// unreadable (`?`, which no offer is); an empty or null cell, nothing (the user's pick).
    public static func offerCell(_ value: NocoDBValue?) -> String? {
        switch value {
        case nil, .null?: return nil
        case .array?, .object?: return "?"
        case let value?:
            let text = (value.text ?? "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            return text.isEmpty ? nil : String(text.prefix(64))
        }
    }

    public func credit(_ recordID: Int64) async throws {
        try await client.update([NocoDBRecord(["Id": .int(recordID), client.config.paidField: .bool(false)])])
    }

    /// Row ids for `ids`: existing rows first (the lowest Id when a user has several), then one
    /// bulk create for the rest.
    func resolve(_ ids: [Int64]) async throws(NocoDBError) -> [Int64: Int64] {
        var rows = try await lookup(ids)
        let missing = ids.filter { rows[$0] == nil }
        guard !missing.isEmpty else { return rows }
        let field = client.config.telegramIDField
        let records = missing.map { NocoDBRecord([field: .string(String($0)), client.config.paidField: .bool(false)]) }
        do throws(NocoDBError) {
            let created = try await client.create(records)
            if created.count == missing.count {
                for (id, row) in zip(missing, created) { rows[id] = row }
                return rows
            }
        } catch where error.code != .ambiguous {
            throw error
        }
        // The create's outcome is unknown or partial: look again rather than create twice.
        return rows.merging(try await lookup(missing)) { old, _ in old }
    }

    func lookup(_ ids: [Int64]) async throws(NocoDBError) -> [Int64: Int64] {
        let field = client.config.telegramIDField
        let page = try await client.list(
            NocoDBQuery(
                where: .isIn(field, ids.map(String.init)), limit: min(1000, ids.count * 2), sort: [.ascending("Id")],
                fields: ["Id", field]))
        var rows: [Int64: Int64] = [:]
        for record in page.list {
            guard let rowID = record.id, let tg = record[field]?.text.flatMap({ Int64($0) }) ?? record[field]?.int else { continue }
            if rows[tg] == nil { rows[tg] = rowID }
        }
        return rows
    }
}
