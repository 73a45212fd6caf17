/// A parsed `where` of the v2 syntax, as the simulator understands it:
/// `(field,op[,sub-op][,value...])` terms joined by `~and`, `~or` (and binds tighter than or),
/// `~not` before a term (or between two: "and not"), adjacent terms meaning "and", nested groups.
indirect enum SimNocoDBFilter: Sendable, Equatable {
    case compare(field: String, op: String, sub: String?, values: [String])
    case and([SimNocoDBFilter])
    case or([SimNocoDBFilter])
    case not(SimNocoDBFilter)

    /// Comparison operators the simulator evaluates.
    static let operators: Set<String> = [
        "eq", "neq", "gt", "ge", "gte", "lt", "le", "lte", "in", "is", "isnot", "like", "nlike", "blank", "notblank",
        "null", "notnull", "empty", "notempty", "checked", "notchecked", "btw", "nbtw",
    ]
    /// Date sub-operators; only `exactDate` carries a value.
    static let dateSubOperators: Set<String> = ["exactDate", "today", "tomorrow", "yesterday", "now"]

    /// Parses a `where` parameter.
    static func parse(_ text: String) throws(SimNocoDBFailure) -> SimNocoDBFilter {
        var parser = Parser(chars: Array(text))
        let filter = try parser.expression()
        parser.skipSpaces()
        guard parser.atEnd else { throw parser.failure("unexpected '\(parser.rest.prefix(20))'") }
        return filter
    }

    /// The column names this filter reads.
    var fields: [String] {
        switch self {
        case .compare(let field, _, _, _): [field]
        case .and(let terms), .or(let terms): terms.flatMap(\.fields)
        case .not(let term): term.fields
        }
    }

    private struct Parser {
        let chars: [Character]
        var index = 0

        var atEnd: Bool { index >= chars.count }
        var rest: String { String(chars[min(index, chars.count)...]) }

        func failure(_ text: String) -> SimNocoDBFailure {
            .unprocessable("Invalid where: \(text)")
        }

        mutating func skipSpaces() {
            while index < chars.count, chars[index] == " " { index += 1 }
        }

        func startsWith(_ word: String) -> Bool {
            let w = Array(word)
            guard index + w.count <= chars.count else { return false }
            return Array(chars[index..<(index + w.count)]) == w
        }

        mutating func expression() throws(SimNocoDBFailure) -> SimNocoDBFilter {
            var orGroups: [[SimNocoDBFilter]] = [[try term()]]
            while true {
                skipSpaces()
                if atEnd || chars[index] == ")" { break }
                if startsWith("~and") {
                    index += 4
                    orGroups[orGroups.count - 1].append(try term())
                } else if startsWith("~or") {
                    index += 3
                    orGroups.append([try term()])
                } else if startsWith("~not") {
                    index += 4
                    orGroups[orGroups.count - 1].append(.not(try term()))
                } else if chars[index] == "(" {
                    orGroups[orGroups.count - 1].append(try term())
                } else {
                    throw failure("expected ~and, ~or or ~not at '\(rest.prefix(20))'")
                }
            }
            let ands = orGroups.map { $0.count == 1 ? $0[0] : SimNocoDBFilter.and($0) }
            return ands.count == 1 ? ands[0] : .or(ands)
        }

        mutating func term() throws(SimNocoDBFailure) -> SimNocoDBFilter {
            skipSpaces()
            if startsWith("~not") {
                index += 4
                return .not(try term())
            }
            guard !atEnd, chars[index] == "(" else { throw failure("expected '(' at '\(rest.prefix(20))'") }
            index += 1
            skipSpaces()
            if !atEnd, chars[index] == "(" || startsWith("~not") {
                let inner = try expression()
                skipSpaces()
                guard !atEnd, chars[index] == ")" else { throw failure("missing ')'") }
                index += 1
                return inner
            }
            var body: [Character] = []
            while index < chars.count, chars[index] != ")" {
                if chars[index] == "(" { throw failure("'(' inside a comparison") }
                body.append(chars[index])
                index += 1
            }
            guard !atEnd else { throw failure("missing ')'") }
            index += 1
            let parts = String(body).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2 else { throw failure("a comparison needs a field and an operator") }
            let field = parts[0].trimmingSpaces()
            let op = parts[1].trimmingSpaces()
            guard !field.isEmpty else { throw failure("empty field name") }
            guard SimNocoDBFilter.operators.contains(op) else { throw failure("unknown operator '\(op)'") }
            var values = Array(parts.dropFirst(2))
            var sub: String?
            if let first = values.first, SimNocoDBFilter.dateSubOperators.contains(first) {
                sub = first
                values.removeFirst()
                if first == "exactDate" { values = [values.joined(separator: ",")] }
            } else if op != "in" && op != "btw" && op != "nbtw" && values.count > 1 {
                values = [values.joined(separator: ",")]
            }
            return .compare(field: field, op: op, sub: sub, values: values)
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
