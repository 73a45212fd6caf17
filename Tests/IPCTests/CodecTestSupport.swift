import Foundation
import TollgateIPC

/// A reproducible random source (SplitMix64), so that a failing differential case can be replayed
/// from the seed printed with it.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The reference: Foundation's coders in the configuration the IPC layer used before its own codec.
enum Reference {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] { Array(try IPCCoding.makeEncoder().encode(value)) }
    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T { try JSONDecoder().decode(type, from: Data(bytes)) }

    /// An error as one comparable line: kind, type, coding path (string and int values) and text.
    static func describe(_ error: any Error) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { "\($0.stringValue)#\($0.intValue.map(String.init) ?? "-")" }.joined(separator: "/")
        }
        switch error {
        case DecodingError.keyNotFound(let key, let c): return "keyNotFound \(key.stringValue) [\(path(c))] \(c.debugDescription)"
        case DecodingError.typeMismatch(let t, let c): return "typeMismatch \(t) [\(path(c))] \(c.debugDescription)"
        case DecodingError.valueNotFound(let t, let c): return "valueNotFound \(t) [\(path(c))] \(c.debugDescription)"
        case DecodingError.dataCorrupted(let c): return "dataCorrupted [\(path(c))] \(c.debugDescription)"
        case EncodingError.invalidValue(let v, let c):
            let p = c.codingPath.map { "\($0.stringValue)#\($0.intValue.map(String.init) ?? "-")" }.joined(separator: "/")
            return "invalidValue \(type(of: v)) [\(p)] \(c.debugDescription)"
        default: return "other \(error)"
        }
    }

    /// What decoding `bytes` as `T` gives: the value, or the error line.
    static func outcome<T: Decodable & Equatable>(_ type: T.Type, _ decode: () throws -> T) -> Result<T, DescribedError> {
        do { return .success(try decode()) } catch { return .failure(DescribedError(text: describe(error))) }
    }
}

struct DescribedError: Error, Equatable, CustomStringConvertible {
    let text: String
    var description: String { text }
}

/// Random values for the differential tests.
struct RandomValues {
    var rng: SeededGenerator

    /// Characters that exercise escaping and key order: every control character, quotes,
    /// backslashes, slashes, DEL, non-ASCII letters (precomposed and combining), emoji (a
    /// ZWJ sequence too), line separators, a BOM, the last scalars of the BMP and of Unicode.
    static let alphabet: [String] =
        (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }
        + ["\"", "\\", "/", "\u{7F}", "a", "b", "z", "A", "Z", "0", "9", "_", "-", ".", ":", " ", "é", "e\u{301}", "ß", "Ж", "中",
            "😀", "👩‍👩‍👧", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFF}", "\u{10FFFF}", "K", "\u{212A}", "<", "&", "'"]

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func bool() -> Bool { Bool.random(using: &rng) }

    mutating func string(maxLength: Int = 12) -> String {
        (0..<int(0...maxLength)).map { _ in Self.alphabet[int(0...(Self.alphabet.count - 1))] }.joined()
    }

    mutating func int64() -> Int64 {
        switch int(0...5) {
        case 0: [Int64.min, Int64.max, 0, -1, 1, Int64.min + 1, Int64.max - 1][int(0...6)]
        case 1: Int64.random(in: -1000...1000, using: &rng)
        case 2: Int64.random(in: Int64.min...Int64.max, using: &rng)
        case 3: Int64.random(in: -(1 << 53)...(1 << 53), using: &rng)
        default: Int64.random(in: 0...2_000_000_000_000, using: &rng)
        }
    }

    mutating func double() -> Double {
        switch int(0...6) {
        case 0:
            let specials: [Double] = [
                0.0, -0.0, 1, -1, 0.1, 0.25, 12.5, 3600, 1e15, 1e16, 1e-7, Double.leastNonzeroMagnitude, -Double.leastNonzeroMagnitude, Double.leastNormalMagnitude,
                Double.greatestFiniteMagnitude, -Double.greatestFiniteMagnitude, 9_007_199_254_740_992.0.nextUp, 123_456_789.125, 1e21, 1e22, 1 / 3,
            ]
            return specials[int(0...(specials.count - 1))]
        case 1:
            while true {
                let d = Double(bitPattern: rng.next())
                if d.isFinite { return d }
            }
        case 2: return Double(int64())
        case 3: return Double(int(-100_000...100_000)) / 100
        case 4:
            let d = Double("\(int(0...999_999)).\(int(0...999_999))e\(int(-320...308))") ?? 1
            return d.isFinite ? d : 1
        default: return Double.random(in: -1e6...1e6, using: &rng)
        }
    }

    mutating func json(depth: Int = 0) -> JSONValue {
        switch depth > 3 ? int(0...3) : int(0...5) {
        case 0: .null
        case 1: .bool(bool())
        case 2: .number(double())
        case 3: .string(string())
        case 4: .array((0..<int(0...4)).map { _ in json(depth: depth + 1) })
        default: .object(Dictionary((0..<int(0...5)).map { _ in (string(maxLength: 4), json(depth: depth + 1)) }, uniquingKeysWith: { a, _ in a }))
        }
    }

    mutating func payload() -> [String: JSONValue] {
        Dictionary((0..<int(0...4)).map { _ in (string(maxLength: 6), json(depth: 2)) }, uniquingKeysWith: { a, _ in a })
    }

    mutating func optional<T>(_ make: (inout RandomValues) -> T) -> T? { bool() ? make(&self) : nil }
}
