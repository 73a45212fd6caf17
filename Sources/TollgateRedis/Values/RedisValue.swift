import TollgateCore

/// A Redis reply as a Swift value, converted at once from hiredis's reply (which is then freed).
///
/// ``RedisClient/send(_:)-(RedisArgument...)`` throws a top-level error reply as a
/// ``RedisError/Code/serverError``; `.error` values appear inside pipelines (one per failed
/// command), inside `EXEC` results and inside arrays returned by scripts.
public enum RedisValue: Sendable, Hashable, CustomStringConvertible {
    /// A status reply such as `OK` or `PONG`.
    case simpleString(String)
    /// A bulk string: arbitrary bytes.
    case bulk([UInt8])
    case integer(Int64)
    case array([RedisValue])
    /// A nil bulk string or nil array (`GET` of a missing key, `BLPOP` timing out).
    case null
    /// An error reply, kept verbatim (`WRONGTYPE Operation against a key ...`).
    case error(String)

    /// A bulk string decoded as UTF-8 (`nil` if it is not valid UTF-8), or a simple string.
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulk(let bytes): String(validating: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// An integer reply, or a bulk/simple string holding a decimal integer (`GET` of a counter).
    public var int: Int64? {
        switch self {
        case .integer(let value): value
        case .simpleString(let text): Int64(text)
        case .bulk(let bytes): String(validating: bytes, as: UTF8.self).flatMap { Int64($0) }
        default: nil
        }
    }

    /// A flat name/value array (`HGETALL`) as a dictionary; pairs that are not text are left out.
    public var fieldPairs: [String: String] {
        guard let items = array else { return [:] }
        var fields: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let name = items[index].string, let value = items[index + 1].string { fields[name] = value }
            index += 2
        }
        return fields
    }

    /// The elements of an array reply.
    public var array: [RedisValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The bytes of a bulk string, or the UTF-8 bytes of a simple string.
    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .simpleString(let text): Array(text.utf8)
        default: nil
        }
    }

    /// Whether the reply is nil (missing key, timed-out blocking pop).
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The message of an error reply.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }

    public var description: String {
        let text: String
        switch self {
        case .simpleString(let value): text = "+\(value)"
        case .bulk(let bytes):
            if let value = String(validating: bytes, as: UTF8.self) {
                text = value.count > 80 ? "\"\(value.prefix(77))...\"" : "\"\(value)\""
            } else {
                text = "<\(bytes.count) bytes>"
            }
        case .integer(let value): text = ":\(value)"
        case .array(let elements): text = "[" + elements.map(\.description).joined(separator: ", ") + "]"
        case .null: text = "nil"
        case .error(let message): text = "-\(message)"
        }
        return Redactor.shared.redact(text)
    }
}
