/// One simulated table: rows by `Id`, system fields kept as Unix milliseconds.
struct SimNocoDBTable: Sendable {
    struct Row: Sendable {
        var id: Int64
        var fields: [String: SimNocoDBValue]
        var createdMs: Int64
        var updatedMs: Int64
    }

    let name: String
    /// Whether rows carry `CreatedAt`/`UpdatedAt` (a table made without them tests the fallback).
    let systemDates: Bool
    var rows: [Int64: Row] = [:]
    var order: [Int64] = []
    var nextID: Int64 = 1
    /// Every user column seen so far (a `where` on an unknown one is a 422).
    var columns: Set<String> = []

    init(name: String, systemDates: Bool, columns: [String]) {
        self.name = name
        self.systemDates = systemDates
        self.columns = Set(columns)
    }

    var knownColumns: Set<String> {
        columns.union(systemDates ? ["Id", "CreatedAt", "UpdatedAt"] : ["Id"])
    }

    /// Inserts a row; returns its id.
    mutating func insert(_ fields: [String: SimNocoDBValue], now: Int64) -> Int64 {
        var fields = fields
        for key in ["Id", "CreatedAt", "UpdatedAt"] { fields[key] = nil }
        let id = nextID
        nextID += 1
        rows[id] = Row(id: id, fields: fields, createdMs: now, updatedMs: now)
        order.append(id)
        columns.formUnion(fields.keys)
        return id
    }

    /// Sets fields of row `id` and moves its `UpdatedAt` to `now` (NocoDB does on every update).
    mutating func update(_ id: Int64, _ fields: [String: SimNocoDBValue], now: Int64) throws(SimNocoDBFailure) {
        guard var row = rows[id] else { throw .recordNotFound(String(id)) }
        for (key, value) in fields where !["Id", "CreatedAt", "UpdatedAt"].contains(key) {
            row.fields[key] = value
            columns.insert(key)
        }
        row.updatedMs = max(now, row.updatedMs + 1)
        rows[id] = row
    }

    mutating func delete(_ id: Int64) throws(SimNocoDBFailure) {
        guard rows.removeValue(forKey: id) != nil else { throw .recordNotFound(String(id)) }
        order.removeAll { $0 == id }
    }

    /// The value of `field` in `row` as the API shows it.
    func value(_ field: String, of row: Row) -> SimNocoDBValue {
        switch field {
        case "Id": .int(row.id)
        case "CreatedAt" where systemDates: .string(SimNocoDBTime.format(row.createdMs))
        case "UpdatedAt" where systemDates: .string(SimNocoDBTime.format(row.updatedMs))
        default: row.fields[field] ?? .null
        }
    }

    /// The row as the API returns it, optionally only `fields`.
    func rendered(_ row: Row, fields: [String]?) -> [String: SimNocoDBValue] {
        var out: [String: SimNocoDBValue] = ["Id": .int(row.id)]
        if systemDates {
            out["CreatedAt"] = .string(SimNocoDBTime.format(row.createdMs))
            out["UpdatedAt"] = .string(SimNocoDBTime.format(row.updatedMs))
        }
        for (k, v) in row.fields { out[k] = v }
        guard let fields, !fields.isEmpty else { return out }
        var picked: [String: SimNocoDBValue] = [:]
        for f in fields { picked[f] = out[f] ?? .null }
        return picked
    }

    /// Checks that every column a filter or sort names exists.
    func checkColumns(_ names: [String]) throws(SimNocoDBFailure) {
        let known = knownColumns
        for name in names where !known.contains(name) { throw .columnNotFound(name) }
    }

    /// `filter` compiled once per request into a predicate (an `in` becomes a set lookup).
    func predicate(_ filter: SimNocoDBFilter) -> @Sendable (Row) -> Bool {
        let table = self
        switch filter {
        case .and(let terms):
            let parts = terms.map(predicate)
            return { row in parts.allSatisfy { $0(row) } }
        case .or(let terms):
            let parts = terms.map(predicate)
            return { row in parts.contains { $0(row) } }
        case .not(let term):
            let inner = predicate(term)
            return { row in !inner(row) }
        case .compare(let field, "in", nil, let values):
            let set = Set(values)
            return { row in
                let v = table.value(field, of: row)
                switch v {
                case .string, .int: return set.contains(v.text)
                default: return values.contains { Self.equal(v, $0) }
                }
            }
        default:
            return { row in table.matches(row, filter) }
        }
    }

    /// Whether `row` satisfies `filter`.
    func matches(_ row: Row, _ filter: SimNocoDBFilter) -> Bool {
        switch filter {
        case .and(let terms): return terms.allSatisfy { matches(row, $0) }
        case .or(let terms): return terms.contains { matches(row, $0) }
        case .not(let term): return !matches(row, term)
        case .compare(let field, let op, let sub, let values):
            let dateMs: Int64? =
                field == "UpdatedAt" ? row.updatedMs : field == "CreatedAt" ? row.createdMs : nil
            return Self.compare(value(field, of: row), dateMs: dateMs, op: op, sub: sub, values: values)
        }
    }

    static func compare(_ value: SimNocoDBValue, dateMs: Int64?, op: String, sub: String?, values: [String]) -> Bool {
        let first = values.first ?? ""
        if sub == "exactDate", let target = SimNocoDBTime.parse(first) {
            let actual = dateMs ?? SimNocoDBTime.parse(value.text)
            guard let actual else { return false }
            switch op {
            case "eq": return actual / 1000 == target / 1000
            case "neq": return actual / 1000 != target / 1000
            case "gt": return actual > target
            case "ge", "gte": return actual >= target
            case "lt": return actual < target
            case "le", "lte": return actual <= target
            default: return false
            }
        }
        switch op {
        case "eq": return equal(value, first)
        case "neq": return !equal(value, first)
        case "in": return values.contains { equal(value, $0) }
        case "gt", "ge", "gte", "lt", "le", "lte":
            let order: Int
            if let a = value.number, let b = Double(first) {
                order = a < b ? -1 : (a > b ? 1 : 0)
            } else {
                guard !value.isNull else { return false }
                order = value.text < first ? -1 : (value.text > first ? 1 : 0)
            }
            switch op {
            case "gt": return order > 0
            case "ge", "gte": return order >= 0
            case "lt": return order < 0
            default: return order <= 0
            }
        case "is", "isnot":
            let result: Bool
            switch first {
            case "null": result = value.isNull
            case "notnull": result = !value.isNull
            case "empty", "blank": result = value.isNull || value.text.isEmpty
            case "notempty", "notblank": result = !(value.isNull || value.text.isEmpty)
            default: result = equal(value, first)
            }
            return op == "is" ? result : !result
        case "null": return value.isNull
        case "notnull": return !value.isNull
        case "blank", "empty": return value.isNull || value.text.isEmpty
        case "notblank", "notempty": return !(value.isNull || value.text.isEmpty)
        case "checked": return truthy(value)
        case "notchecked": return !truthy(value)
        case "like", "nlike":
            let pattern = first.lowercased()
            let text = value.text.lowercased()
            let core = pattern.trimmingCharacters("%")
            let hit: Bool
            switch (pattern.hasPrefix("%"), pattern.hasSuffix("%")) {
            case (true, true), (false, false): hit = core.isEmpty || text.contains(core)
            case (true, false): hit = text.hasSuffix(core)
            case (false, true): hit = text.hasPrefix(core)
            }
            return op == "like" ? hit : !hit
        case "btw", "nbtw":
            guard values.count == 2, let a = value.number, let lo = Double(values[0]), let hi = Double(values[1]) else {
                return false
            }
            return (lo...hi).contains(a) == (op == "btw")
        default: return false
        }
    }

    static func equal(_ value: SimNocoDBValue, _ text: String) -> Bool {
        switch value {
        case .bool(let b): return ["true", "1"].contains(text.lowercased()) == b && !text.isEmpty
        case .int, .double:
            if let t = Double(text), let v = value.number { return t == v }
            return value.text == text
        case .null: return text.isEmpty || text == "null"
        default: return value.text == text
        }
    }

    static func truthy(_ value: SimNocoDBValue) -> Bool {
        switch value {
        case .bool(let b): b
        case .int(let i): i != 0
        case .string(let s): ["true", "1"].contains(s.lowercased())
        default: false
        }
    }
}

extension String {
    func trimmingCharacters(_ c: Character) -> String {
        var s = Substring(self)
        while s.first == c { s = s.dropFirst() }
        while s.last == c { s = s.dropLast() }
        return String(s)
    }
}
