/// One argument of a Redis command, as the exact bytes sent on the wire.
///
/// Binary-safe: bytes go to hiredis with an explicit length, so `0x00`, `\r\n` and invalid UTF-8 are
/// sent unchanged. Literals work directly: `client.send("SET", "key", 42)`, `client.send("ZADD", "z", 1.5, "m")`.
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, CustomStringConvertible
{
    /// The bytes sent for this argument.
    public let bytes: [UInt8]

    /// The UTF-8 bytes of `string`.
    public init(_ string: String) { bytes = Array(string.utf8) }

    /// Raw bytes, sent as they are.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The decimal form of `value`.
    public init(_ value: Int) { bytes = Array(String(value).utf8) }

    /// The decimal form of `value`.
    public init(_ value: Int64) { bytes = Array(String(value).utf8) }

    /// A form Redis parses as a float: `1.5`, `-3.0`, `1e-05`, `inf`, `-inf`.
    public init(_ value: Double) { bytes = Array(value.description.utf8) }

    public init(stringLiteral value: String) { self.init(value) }

    public init(integerLiteral value: Int) { self.init(value) }

    public init(floatLiteral value: Double) { self.init(value) }

    /// The argument as text when it is valid UTF-8 (cut to 80 characters), else its byte count.
    public var description: String {
        guard let text = String(validating: bytes, as: UTF8.self) else { return "<\(bytes.count) bytes>" }
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }
}
