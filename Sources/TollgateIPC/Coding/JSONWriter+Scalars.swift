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
            bytes.reserve(source.count + 2)
            bytes.append(UInt8(ascii: "\""))
            var mark = 0
            var i = 0
            let n = source.count
            let p = source.baseAddress
            while i < n {
                // Eight bytes at a time while none needs escaping (and note any above 0x7F).
                if let p, n - i >= 8 {
                    let word = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
                    if !Self.mayNeedEscape(word) {
                        if word & 0x8080_8080_8080_8080 != 0 { high = 0x80 }
                        i += 8
                        continue
                    }
                }
                let b = source[i]
                i += 1
                high |= b
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                let at = i - 1
                escaped = true
                if at > mark { bytes.append(UnsafeBufferPointer(rebasing: source[mark..<at])) }
                mark = at + 1
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"), b)
                case 0x08: bytes.append(UInt8(ascii: "\\"), UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "\\"), UInt8(ascii: "t"))
                case 0x0A: bytes.append(UInt8(ascii: "\\"), UInt8(ascii: "n"))
                case 0x0C: bytes.append(UInt8(ascii: "\\"), UInt8(ascii: "f"))
                case 0x0D: bytes.append(UInt8(ascii: "\\"), UInt8(ascii: "r"))
                default:
                    let hex = Self.hexDigits
                    bytes.append("\\u00")
                    bytes.append(hex[Int(b >> 4)], hex[Int(b & 0xF)])
                }
            }
            if source.count > mark { bytes.append(UnsafeBufferPointer(rebasing: source[mark...])) }
            bytes.append(UInt8(ascii: "\""))
            return (escaped, high >= 0x80)
        }
    }

    /// Whether any byte of `word` is below 0x20, a quote or a backslash (exact for bytes below
    /// 0x80; a byte above may report true, which only costs the slow path).
    @inline(__always)
    private static func mayNeedEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func hasZeroByte(_ x: UInt64) -> Bool { (x &- ones) & ~x & highs != 0 }
        let control = (word &- 0x2020_2020_2020_2020) & ~word & highs != 0
        return control || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5C))
    }

    func writeBool(_ value: Bool) {
        if value {
            bytes.append("true")
        } else {
            bytes.append("false")
        }
    }

    func writeNull() {
        bytes.append("null")
    }

    /// Decimal digits, with a minus sign when negative.
    func writeInteger(_ value: Int64) {
        writeDigits(value.magnitude, negative: value < 0)
    }

    func writeInteger(_ value: UInt64) {
        writeDigits(value, negative: false)
    }

    /// Any other integer type: through 64 bits when it fits (all but 128-bit values).
    func writeInteger<T: FixedWidthInteger>(_ value: T) {
        if let small = Int64(exactly: value) {
            writeInteger(small)
        } else if let small = UInt64(exactly: value) {
            writeInteger(small)
        } else {
            var text = String(value)
            text.withUTF8 { bytes.append($0) }
        }
    }

    private func writeDigits(_ magnitude: UInt64, negative: Bool) {
        // 20 digits and a sign at most, built from the end of a stack buffer.
        var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &buffer) { raw in
            var m = magnitude
            var i = raw.count
            repeat {
                i -= 1
                raw[i] = UInt8(truncatingIfNeeded: m % 10) &+ UInt8(ascii: "0")
                m /= 10
            } while m != 0
            if negative {
                i -= 1
                raw[i] = UInt8(ascii: "-")
            }
            bytes.append(UnsafeRawBufferPointer(rebasing: raw[i...]))
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
    func writeFloatingPoint(_ value: Double) {
        if value != 0, value.magnitude < 1e15, value == value.rounded(.towardZero) {
            writeInteger(Int64(value))
            return
        }
        writeDescription(value.description)
    }

    func writeFloatingPoint(_ value: Float) {
        writeDescription(value.description)
    }

    private func writeDescription(_ text: String) {
        var text = text
        if text.hasSuffix(".0") { text.removeLast(2) }
        text.withUTF8 { bytes.append($0) }
    }
}
