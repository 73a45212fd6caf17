#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import TollgateHTTPServer

extension NocoDBSimulator {
    /// The body the cloud limiter answers with.
    static let throttledBody = "ThrottlerException: Too Many Requests"

    func handle(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        if request.path == "/_sim" || request.path.hasPrefix("/_sim/") { return control(request) }
        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.count >= 5, parts[0] == "api", parts[1] == "v2", parts[2] == "tables", parts[4] == "records" else {
            return .json(["msg": "Cannot \(request.method) \(request.path)"], status: 404)
        }
        let table = parts[3]
        let rest = Array(parts.dropFirst(5))
        let operation: String
        switch (request.method, rest.first) {
        case ("GET", nil): operation = "GET list"
        case ("GET", "count"): operation = "GET count"
        case ("GET", _): operation = "GET one"
        default: operation = request.method
        }
        var token = request.header("xc-token")
        if token == nil, let auth = request.header("authorization"), auth.hasPrefix("Bearer ") {
            token = String(auth.dropFirst(7))
        }
        let now = SimNocoDBTime.nowMs()
        guard let token, configuration.tokens.contains(token) else {
            state.withLock {
                $0.recorder.arrived(token: "-", nowMs: now, windowMs: $0.throttle.windowMs, operation: operation)
                $0.recorder.answered(401)
            }
            return failure(.unauthorized)
        }

        enum Admission {
            case proceed(delay: Duration?)
            case throttled(retryAfter: Int)
            case fail(status: Int)
        }
        let admission = state.withLock { s -> Admission in
            s.recorder.arrived(token: token, nowMs: now, windowMs: s.throttle.windowMs, operation: operation)
            if case .throttled(let retryAfter, let duringBlock) = s.throttle.admit(token: token, nowMs: now) {
                s.recorder.answered(429, duringBlock: duringBlock)
                return .throttled(retryAfter: retryAfter)
            }
            guard let fault = s.faults.first else { return .proceed(delay: nil) }
            switch fault {
            case .status(let status, let count):
                s.faults[0] = .status(status, count: count - 1)
                if count <= 1 { s.faults.removeFirst() }
                s.recorder.answered(status)
                return .fail(status: status)
            case .delay(let delay, let count):
                s.faults[0] = .delay(delay, count: count - 1)
                if count <= 1 { s.faults.removeFirst() }
                s.recorder.stats.delayed += 1
                return .proceed(delay: delay)
            case .throttle(let count):
                s.faults[0] = .throttle(count: count - 1)
                if count <= 1 { s.faults.removeFirst() }
                s.recorder.answered(429)
                if case .throttled(let retryAfter, _) = s.throttle.forceBlock(token: token, nowMs: now) {
                    return .throttled(retryAfter: retryAfter)
                }
                return .throttled(retryAfter: 1)
            }
        }
        if configuration.latency > .zero { try? await Task.sleep(for: configuration.latency) }
        switch admission {
        case .throttled(let retryAfter):
            return HTTPServerResponse(
                status: 429, headers: [("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "\(retryAfter)")],
                body: Array(Self.throttledBody.utf8))
        case .fail(let status):
            return .json(["msg": status == 503 ? "Service Unavailable" : "Internal Server Error"], status: status)
        case .proceed(let delay):
            if let delay { try? await Task.sleep(for: delay) }
        }
        if let (fault, detail) = hostile.draw(route: operation) {
            let real = fault.applies ? carryOut(request, table: table, rest: rest) : nil
            return SimHostile.reply(fault, detail: detail, real: real, errorBody: #"{"msg":"Internal Server Error"}"#)
        }
        return carryOut(request, table: table, rest: rest)
    }

    /// One API operation, answered.
    private func carryOut(_ request: HTTPServerRequest, table: String, rest: [String]) -> HTTPServerResponse {
        let result = state.withLock { s -> Result<HTTPServerResponse, SimNocoDBFailure> in
            do throws(SimNocoDBFailure) {
                return .success(try Self.modify(&s, table) { t throws(SimNocoDBFailure) in try api(&t, request, rest: rest) })
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let response):
            state.withLock { $0.recorder.answered(response.status) }
            return response
        case .failure(let error):
            state.withLock { $0.recorder.answered(error.status) }
            return failure(error)
        }
    }

    func failure(_ error: SimNocoDBFailure) -> HTTPServerResponse {
        .json(error.body(legacy: configuration.legacyErrorShape), status: error.status)
    }

    /// One API operation on a table (under the state lock).
    func api(_ t: inout SimNocoDBTable, _ request: HTTPServerRequest, rest: [String]) throws(SimNocoDBFailure)
        -> HTTPServerResponse
    {
        let now = SimNocoDBTime.nowMs()
        switch (request.method, rest.count) {
        case ("GET", 0):
            return .json(try list(t, request))
        case ("GET", 1) where rest[0] == "count":
            let filter = try request.queryValue("where").map(SimNocoDBFilter.parse)
            if let filter { try t.checkColumns(filter.fields) }
            let match = filter.map(t.predicate)
            let count = t.order.reduce(0) { n, id in (match?(t.rows[id]!) ?? true) ? n + 1 : n }
            return .json(["count": count])
        case ("GET", 1):
            guard let id = Int64(rest[0]), let row = t.rows[id] else { throw .recordNotFound(rest[0]) }
            return .json(t.rendered(row, fields: fieldsParameter(request)))
        case ("POST", 0):
            let (records, isArray) = try body(request)
            guard records.count <= configuration.maxBulk else {
                throw .unprocessable("Bulk insert of more than \(configuration.maxBulk) records is not allowed")
            }
            let ids = records.map { t.insert($0, now: now) }
            let reply = ids.map { ["Id": SimNocoDBValue.int($0)] }
            return isArray ? .json(reply) : .json(reply[0])
        case ("PATCH", 0), ("DELETE", 0):
            let (records, isArray) = try body(request)
            guard records.count <= configuration.maxBulk else {
                throw .unprocessable("Bulk update of more than \(configuration.maxBulk) records is not allowed")
            }
            var ids: [Int64] = []
            for record in records {
                guard let id = record["Id"]?.int else { throw .unprocessable("Primary key 'Id' is missing") }
                guard t.rows[id] != nil else { throw .recordNotFound(String(id)) }
                ids.append(id)
            }
            for (id, record) in zip(ids, records) {
                if request.method == "PATCH" { try t.update(id, record, now: now) } else { try t.delete(id) }
            }
            let reply = ids.map { ["Id": SimNocoDBValue.int($0)] }
            return isArray ? .json(reply) : .json(reply[0])
        default:
            throw .badRequest("Unsupported \(request.method) on records")
        }
    }

    struct ListReply: Encodable {
        struct PageInfo: Encodable {
            var totalRows: Int
            var page: Int
            var pageSize: Int
            var isFirstPage: Bool
            var isLastPage: Bool
        }
        var list: [[String: SimNocoDBValue]]
        var pageInfo: PageInfo
    }

    func list(_ t: SimNocoDBTable, _ request: HTTPServerRequest) throws(SimNocoDBFailure) -> ListReply {
        var limit = request.queryValue("limit").flatMap(Int.init) ?? configuration.defaultLimit
        if limit < 1 { limit = configuration.defaultLimit }
        limit = min(limit, configuration.maxLimit)
        let offset = max(0, request.queryValue("offset").flatMap(Int.init) ?? 0)
        let filter = try request.queryValue("where").map(SimNocoDBFilter.parse)
        let sort: [(field: String, descending: Bool)] = (request.queryValue("sort") ?? "")
            .split(separator: ",").map { key in
                key.hasPrefix("-") ? (String(key.dropFirst()), true) : (String(key), false)
            }
        try t.checkColumns((filter?.fields ?? []) + sort.map(\.field))
        let match = filter.map(t.predicate)
        var rows = t.order.compactMap { id -> SimNocoDBTable.Row? in
            let row = t.rows[id]!
            return (match?(row) ?? true) ? row : nil
        }
        if !sort.isEmpty {
            rows.sort { a, b in
                for key in sort {
                    let order = Self.order(t, key.field, a, b)
                    if order != 0 { return key.descending ? order > 0 : order < 0 }
                }
                return a.id < b.id
            }
        }
        let total = rows.count
        let page = offset < total ? Array(rows[offset..<min(total, offset + limit)]) : []
        let fields = fieldsParameter(request)
        return ListReply(
            list: page.map { t.rendered($0, fields: fields) },
            pageInfo: .init(
                totalRows: total, page: offset / limit + 1, pageSize: limit, isFirstPage: offset == 0,
                isLastPage: offset + limit >= total))
    }

    static func order(_ t: SimNocoDBTable, _ field: String, _ a: SimNocoDBTable.Row, _ b: SimNocoDBTable.Row) -> Int {
        switch field {
        case "UpdatedAt": return a.updatedMs < b.updatedMs ? -1 : (a.updatedMs > b.updatedMs ? 1 : 0)
        case "CreatedAt": return a.createdMs < b.createdMs ? -1 : (a.createdMs > b.createdMs ? 1 : 0)
        default:
            let x = t.value(field, of: a)
            let y = t.value(field, of: b)
            if let p = x.number, let q = y.number { return p < q ? -1 : (p > q ? 1 : 0) }
            return x.text < y.text ? -1 : (x.text > y.text ? 1 : 0)
        }
    }

    func fieldsParameter(_ request: HTTPServerRequest) -> [String]? {
        request.queryValue("fields").map { $0.split(separator: ",").map { String($0).trimmingSpaces() } }
    }

    /// A JSON object or array of objects.
    func body(_ request: HTTPServerRequest) throws(SimNocoDBFailure) -> ([[String: SimNocoDBValue]], Bool) {
        guard let value = try? JSONDecoder().decode(SimNocoDBValue.self, from: Data(request.body)) else {
            throw .badRequest("Invalid JSON body")
        }
        switch value {
        case .object(let o): return ([o], false)
        case .array(let items):
            var records: [[String: SimNocoDBValue]] = []
            for item in items {
                guard case .object(let o) = item else { throw .badRequest("Expected an array of objects") }
                records.append(o)
            }
            guard !records.isEmpty else { throw .badRequest("Empty array") }
            return (records, true)
        default: throw .badRequest("Expected an object or an array")
        }
    }
}
