extension JSONWriter {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes `string` quoted, escaped exactly as Foundation's `JSONEncoder` does with
    /// `.withoutEscapingSlashes`: `"` and `\` with a backslash; of the control characters,
    /// U+0008, U+0009, U+000A, U+000C and U+000D as `\b` `\t` `\n` `\f` `\r`, the others as
    /// `\u00xx` (lowercase hex); everything else, `/` and DEL included, as raw UTF-8.
    @discardableResult
    func writeString(_ string: String) -> (escaped: Bool, nonASCII: Bool) {
        var string = string
        return string.withUTF8 { source in
            var escaped = false
            var high: UInt8 = 0
            bytes.reserveCapacity(bytes.count + source.count + 2)
            bytes.append(UInt8(ascii: "\""))
            var mark = 0
            for i in 0..<source.count {
                let b = source[i]
                high |= b
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                escaped = true
                if i > mark { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[mark..<i])) }
                mark = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(b)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                default:
                    let hex = Self.hexDigits
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                }
            }
            if source.count > mark { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[mark...])) }
            bytes.append(UInt8(ascii: "\""))
            return (escaped, high >= 0x80)
        }
    }

    func writeBool(_ value: Bool) {
        if value {
            bytes.append(contentsOf: [UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "u"), UInt8(ascii: "e")])
        } else {
            bytes.append(contentsOf: [UInt8(ascii: "f"), UInt8(ascii: "a"), UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "e")])
        }
    }

    func writeNull() {
        bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
    }

    /// Decimal digits, with a minus sign when negative.
    func writeInteger<T: FixedWidthInteger>(_ value: T) {
        var magnitude = value.magnitude
        guard magnitude != 0 else {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 41) { digits in
            var i = digits.count
            while magnitude != 0 {
                let (q, r) = magnitude.quotientAndRemainder(dividingBy: 10)
                i -= 1
                digits[i] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: r)
                magnitude = q
            }
            if value < 0 {
                i -= 1
                digits[i] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[i...]))
        }
    }

    /// Whether Foundation would refuse to encode `value` (NaN and the infinities).
    static func refuses<T: BinaryFloatingPoint>(_ value: T) -> Bool { !value.isFinite }

    /// The error Foundation throws for a non-finite number.
    static func invalidNumber<T: BinaryFloatingPoint>(_ value: T, _ path: [any CodingKey]) -> EncodingError {
        .invalidValue(value, .init(codingPath: path, debugDescription: "Unable to encode \(T.self).\(value) directly in JSON."))
    }

    /// A finite number as Foundation prints it: the shortest text that reads back as the same
    /// value (Swift's `description`), without a trailing `.0` (3600.0 is `3600`, -0.0 is `-0`).
    func writeFloatingPoint<T: BinaryFloatingPoint & CustomStringConvertible>(_ value: T) {
        if T.self == Double.self, value != 0, value.magnitude < 1e15, value == value.rounded(.towardZero) {
            writeInteger(Int64(value))
            return
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }
}
