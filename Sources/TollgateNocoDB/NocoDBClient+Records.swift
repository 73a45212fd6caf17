/// The record operations of API v2 (`/api/v2/tables/{tableId}/records`).
extension NocoDBClient {
    /// The answer of ``findOrCreate(telegramID:defaults:)``.
    public struct FindOrCreateResult: Sendable, Hashable {
        /// The row (as found, or as created: `defaults` plus `Id` and the Telegram id).
        public var record: NocoDBRecord
        /// Whether this call created it.
        public var created: Bool
    }

    /// One page of rows. `table` defaults to the configured table.
    public func list(table: String? = nil, _ query: NocoDBQuery = NocoDBQuery()) async throws(NocoDBError) -> NocoDBPage {
        let response = try await send("GET", table: table ?? config.tableID, query: try query.parameters(), .idempotent)
        return try Self.decode(NocoDBPage.self, response)
    }

    /// Every row matching `query`, page after page (`offset` stepped by the page size) until the
    /// server says it was the last page or sends a short page, or `maxRows` rows were read, or
    /// ``maxPages`` pages (a server that ignores `limit` or `offset` cannot hold the caller).
    public func listAll(
        table: String? = nil, _ query: NocoDBQuery = NocoDBQuery(), maxRows: Int = 100_000
    ) async throws(NocoDBError) -> [NocoDBRecord] {
        var rows: [NocoDBRecord] = []
        var page = query
        page.limit = page.limit ?? options.pageLimit
        page.offset = page.offset ?? 0
        var pages = 0
        while rows.count < maxRows, pages < Self.maxPages {
            let result = try await list(table: table, page)
            pages += 1
            rows += result.list
            if result.list.isEmpty || result.pageInfo.isLastPage == true { break }
            if result.list.count < (page.limit ?? 25) { break }
            page.offset = (page.offset ?? 0) + result.list.count
        }
        return rows
    }

    /// The most pages one ``listAll(table:_:maxRows:)`` reads.
    public static let maxPages = 1000

    /// The row with primary key `id`, or `nil` when there is none (404 `ERR_RECORD_NOT_FOUND`).
    public func get(table: String? = nil, id: Int64, fields: [String] = []) async throws(NocoDBError) -> NocoDBRecord? {
        let query: [(String, String)] = fields.isEmpty ? [] : [("fields", fields.joined(separator: ","))]
        do {
            let response = try await send("GET", table: table ?? config.tableID, suffix: "/\(id)", query: query, .idempotent)
            return try Self.decode(NocoDBRecord.self, response)
        } catch where error.code == .notFound && error.remoteCode != "ERR_TABLE_NOT_FOUND" {
            return nil
        }
    }

    /// How many rows match `condition`.
    public func count(table: String? = nil, where condition: NocoDBWhere? = nil) async throws(NocoDBError) -> Int {
        let query: [(String, String)] = try condition.map { c throws(NocoDBError) in [("where", try c.render())] } ?? []
        let response = try await send("GET", table: table ?? config.tableID, suffix: "/count", query: query, .idempotent)
        struct Count: Decodable { var count: Int }
        return try Self.decode(Count.self, response).count
    }

    /// Creates one row; returns its `Id`. Not repeated when the outcome is unknown
    /// (``NocoDBError/Code/ambiguous``): look the row up before creating again.
    public func create(table: String? = nil, _ record: NocoDBRecord) async throws(NocoDBError) -> Int64 {
        let response = try await send("POST", table: table ?? config.tableID, json: try Self.encode(record), .once)
        let created = try Self.decode(NocoDBRecord.self, response)
        guard let id = created.id else { throw NocoDBError(.invalidResponse, "create answered without an Id") }
        return id
    }

    /// Creates several rows in one request (NocoDB may refuse more than 100); returns their ids.
    public func create(table: String? = nil, _ records: [NocoDBRecord]) async throws(NocoDBError) -> [Int64] {
        guard !records.isEmpty else { return [] }
        let response = try await send("POST", table: table ?? config.tableID, json: try Self.encode(records), .once)
        let created = try Self.decode([NocoDBRecord].self, response)
        return created.compactMap(\.id)
    }

    /// Updates rows by their `Id` (each record must carry one); only the given fields change.
    public func update(table: String? = nil, _ records: [NocoDBRecord]) async throws(NocoDBError) {
        guard !records.isEmpty else { return }
        guard records.allSatisfy({ $0.id != nil }) else {
            throw NocoDBError(.invalidRequest, "every record to update needs its Id")
        }
        _ = try await send("PATCH", table: table ?? config.tableID, json: try Self.encode(records), .idempotent)
    }

    /// The user's row in the configured table, found by the Telegram id column, or created from
    /// `defaults` (plus the Telegram id) when there is none — e.g. `defaults: ["Paid": false]`.
    ///
    /// When a create ends ambiguously (timeout, 500), the row is looked up again before another
    /// create is tried, so a lost reply does not make a second row. Two processes racing on the same
    /// new user could still both create: callers serialize per user (the gateway handles one chat's
    /// updates in order).
    public func findOrCreate(telegramID: String, defaults: [String: NocoDBValue]) async throws(NocoDBError)
        -> FindOrCreateResult
    {
        let field = config.telegramIDField
        let lookup = NocoDBQuery(where: .eq(field, telegramID), limit: 1, sort: [.ascending("Id")])
        var attempts = 0
        while true {
            if let found = try await list(lookup).list.first {
                return FindOrCreateResult(record: found, created: false)
            }
            var record = NocoDBRecord(defaults)
            record[field] = .string(telegramID)
            do {
                let id = try await create(record)
                record["Id"] = .int(id)
                return FindOrCreateResult(record: record, created: true)
            } catch where error.code == .ambiguous && attempts < 2 {
                attempts += 1
                logger.warning("nocodb create ended ambiguously; looking the row up again", metadata: ["table": "\(config.tableID)"])
            }
        }
    }
}
