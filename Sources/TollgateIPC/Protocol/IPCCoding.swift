import Foundation

/// The JSON encoding every IPC participant uses: sorted keys and unescaped slashes, so that the
/// bytes of a message are deterministic (golden frames compare byte for byte).
///
/// `encode`, `frame` and `decode` run the IPC layer's own codec (``JSONCodec``), which produces the
/// same bytes as the Foundation coders below and reads strict RFC 8259 JSON several times faster.
public enum IPCCoding {
    /// Foundation's encoder in the IPC configuration (the reference the codec matches byte for byte).
    public static func makeEncoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    /// Foundation's decoder (more lenient than the codec: see ``JSONParser``).
    public static func makeDecoder() -> JSONDecoder { JSONDecoder() }

    /// Encodes `value` as frame payload bytes (without the length header).
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try JSONCodec.encode(value)
    }

    /// Encodes a whole frame: 4-byte big-endian length, then the JSON.
    public static func frame<T: Encodable>(_ value: T) throws -> [UInt8] {
        var frame = try JSONCodec.encode(value, headerBytes: 4)
        let n = UInt32(truncatingIfNeeded: frame.count - 4)
        frame[0] = UInt8(n >> 24)
        frame[1] = UInt8((n >> 16) & 0xff)
        frame[2] = UInt8((n >> 8) & 0xff)
        frame[3] = UInt8(n & 0xff)
        return frame
    }

    /// Decodes a `T` from one strict RFC 8259 JSON text.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try JSONCodec.decode(type, from: bytes)
    }

    /// A short, secret-free account of a decoding failure, naming the JSON path of the bad field.
    public static func explain(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "malformed body" }
        func path(_ p: [any CodingKey]) -> String {
            let parts = p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return parts.isEmpty ? "body" : parts.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch e {
        case .keyNotFound(let key, let ctx): return "missing field '\(path(ctx.codingPath + [key]))'"
        case .typeMismatch(let t, let ctx): return "field '\(path(ctx.codingPath))' must be \(describe(t))"
        case .valueNotFound(let t, let ctx): return "field '\(path(ctx.codingPath))' must be \(describe(t)), got null"
        case .dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty ? "not valid JSON" : "field '\(path(ctx.codingPath))': \(ctx.debugDescription)"
        @unknown default: return "malformed body"
        }
    }

    private static func describe(_ t: Any.Type) -> String {
        switch t {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type, is UInt64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "a boolean"
        default:
            String(describing: t).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
