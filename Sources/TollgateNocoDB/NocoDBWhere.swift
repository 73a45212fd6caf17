/// A typed `where` condition of the NocoDB v2 API, rendered to its text syntax:
/// `(TelegramId,in,111,222)`, `(Paid,eq,true)~and(UpdatedAt,gt,exactDate,2026-01-01 10:00:00)`,
/// `~not(Status,eq,archived)`.
///
/// The v2 syntax has no escaping: a value holding `,`, `(`, `)` or `~` would change the meaning
/// of the condition (and `in` splits its value on commas). Rendering such a value is refused with
/// ``NocoDBError/Code/invalidWhere`` rather than sent. Field names obey the same rule.
public indirect enum NocoDBWhere: Sendable, Hashable {
    /// `(field,op[,subOperator][,values...])`.
    case compare(field: String, op: Operator, subOperator: String?, values: [String])
    /// Every condition holds (`~and`).
    case and([NocoDBWhere])
    /// Any condition holds (`~or`).
    case or([NocoDBWhere])
    /// The condition does not hold (`~not`).
    case not(NocoDBWhere)

    /// The comparison operators of the v2 syntax.
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case eq, neq, gt, ge, lt, le, `in`, `is`, isnot, like, nlike, blank, notblank, checked, notchecked, btw, nbtw
    }

    public static func eq(_ field: String, _ value: some CustomStringConvertible) -> NocoDBWhere {
        .compare(field: field, op: .eq, subOperator: nil, values: [value.description])
    }
    public static func neq(_ field: String, _ value: some CustomStringConvertible) -> NocoDBWhere {
        .compare(field: field, op: .neq, subOperator: nil, values: [value.description])
    }
    public static func gt(_ field: String, _ value: some CustomStringConvertible) -> NocoDBWhere {
        .compare(field: field, op: .gt, subOperator: nil, values: [value.description])
    }
    public static func ge(_ field: String, _ value: some CustomStringConvertible) -> NocoDBWhere {
        .compare(field: field, op: .ge, subOperator: nil, values: [value.description])
    }
    public static func lt(_ field: String, _ value: some CustomStringConvertible) -> NocoDBWhere {
        .compare(field: field, op: .lt, subOperator: nil, values: [value.description])
    }
    public static func le(_ field: String, _ value: some CustomStringConvertible) -> NocoDBWhere {
        .compare(field: field, op: .le, subOperator: nil, values: [value.description])
    }
    /// `(field,in,a,b,c)`: any of `values` (at least one).
    public static func isIn(_ field: String, _ values: [String]) -> NocoDBWhere {
        .compare(field: field, op: .in, subOperator: nil, values: values)
    }
    /// A date comparison against an exact UTC time: `(field,op,exactDate,YYYY-MM-DD HH:MM:SS)`.
    public static func date(_ field: String, _ op: Operator, exactMs: Int64) -> NocoDBWhere {
        .compare(field: field, op: op, subOperator: "exactDate", values: [NocoDBTimestamp.format(exactMs)])
    }

    /// The condition in v2 text syntax (not yet URL-encoded).
    ///
    /// - Throws: ``NocoDBError`` `invalidWhere` for a value or field the syntax cannot carry, an
    ///   empty `in`, `and` or `or`.
    public func render() throws(NocoDBError) -> String {
        switch self {
        case .compare(let field, let op, let sub, let values):
            try Self.check(field, what: "field name")
            if op == .in && values.isEmpty { throw NocoDBError(.invalidWhere, "'in' needs at least one value") }
            var parts = [field, op.rawValue]
            if let sub {
                try Self.check(sub, what: "sub-operator")
                parts.append(sub)
            }
            for value in values {
                try Self.check(value, what: "value", allowEmpty: true)
                parts.append(value)
            }
            return "(" + parts.joined(separator: ",") + ")"
        case .and(let terms), .or(let terms):
            guard !terms.isEmpty else { throw NocoDBError(.invalidWhere, "an empty ~and/~or group") }
            let joiner: String
            if case .and = self { joiner = "~and" } else { joiner = "~or" }
            var text = ""
            for (index, term) in terms.enumerated() {
                if index > 0, joiner == "~and", case .not(let negated) = term {
                    // NocoDB reads `a~not(b)` as "a and not b".
                    text += "~not" + (try negated.renderGrouped())
                    continue
                }
                if index > 0 { text += joiner }
                if index > 0, case .not = term {
                    text += "(" + (try term.render()) + ")"
                } else {
                    text += try term.renderGrouped()
                }
            }
            return text
        case .not(let term):
            return "~not" + (try term.renderGrouped())
        }
    }

    /// The rendering as one parenthesized unit (a group gets its own parentheses).
    private func renderGrouped() throws(NocoDBError) -> String {
        switch self {
        case .compare, .not: try render()
        case .and(let terms) where terms.count == 1: try terms[0].renderGrouped()
        case .or(let terms) where terms.count == 1: try terms[0].renderGrouped()
        case .and, .or: "(" + (try render()) + ")"
        }
    }

    /// Characters that carry meaning in the v2 syntax.
    static let reserved: Set<UInt8> = [UInt8(ascii: ","), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "~")]

    private static func check(_ text: String, what: String, allowEmpty: Bool = false) throws(NocoDBError) {
        if text.isEmpty && !allowEmpty { throw NocoDBError(.invalidWhere, "an empty \(what)") }
        if text.utf8.contains(where: { reserved.contains($0) || $0 < 0x20 }) {
            throw NocoDBError(
                .invalidWhere,
                "a \(what) containing ',', '(', ')', '~' or a control character cannot be expressed in a v2 where clause")
        }
    }
}
