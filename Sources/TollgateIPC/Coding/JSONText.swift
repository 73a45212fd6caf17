#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Byte-level helpers shared by the parser, the document and the writer.
enum JSONText {
    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The text of a string token whose escapes the parser has already checked.
    static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: raw.count) { out in
            var r = 0
            var w = 0
            while r < raw.count {
                let b = raw[r]
                guard b == UInt8(ascii: "\\") else {
                    out[w] = b
                    w += 1
                    r += 1
                    continue
                }
                let e = raw[r + 1]
                r += 2
                switch e {
                case UInt8(ascii: "b"): out[w] = 0x08
                case UInt8(ascii: "f"): out[w] = 0x0C
                case UInt8(ascii: "n"): out[w] = 0x0A
                case UInt8(ascii: "r"): out[w] = 0x0D
                case UInt8(ascii: "t"): out[w] = 0x09
                case UInt8(ascii: "u"):
                    var scalar = UInt32(hex4(raw, r))
                    r += 4
                    if scalar >= 0xD800 && scalar <= 0xDBFF {
                        let low = UInt32(hex4(raw, r + 2))
                        r += 6
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    w += encodeUTF8(scalar, into: out, at: w)
                    continue
                default: out[w] = e  // '"', '\\', '/'
                }
                w += 1
            }
            return w
        }
    }

    private static func hex4(_ raw: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt16 {
        var value: UInt16 = 0
        for k in at..<(at + 4) { value = value << 4 | UInt16(hexValue(raw[k]) ?? 0) }
        return value
    }

    /// Writes `scalar` as UTF-8 at `out[at...]` and returns the number of bytes (an escape takes
    /// at least as many bytes as its UTF-8, so the output never outgrows the token).
    private static func encodeUTF8(_ scalar: UInt32, into out: UnsafeMutableBufferPointer<UInt8>, at: Int) -> Int {
        switch scalar {
        case 0..<0x80:
            out[at] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            out[at] = UInt8(0xC0 | (scalar >> 6))
            out[at + 1] = UInt8(0x80 | (scalar & 0x3F))
            return 2
        case 0x800..<0x10000:
            out[at] = UInt8(0xE0 | (scalar >> 12))
            out[at + 1] = UInt8(0x80 | ((scalar >> 6) & 0x3F))
            out[at + 2] = UInt8(0x80 | (scalar & 0x3F))
            return 3
        default:
            out[at] = UInt8(0xF0 | (scalar >> 18))
            out[at + 1] = UInt8(0x80 | ((scalar >> 12) & 0x3F))
            out[at + 2] = UInt8(0x80 | ((scalar >> 6) & 0x3F))
            out[at + 3] = UInt8(0x80 | (scalar & 0x3F))
            return 4
        }
    }

    /// Whether the UTF-8 of `a` sorts before that of `b`, byte by byte: the order of Foundation's
    /// `.sortedKeys`.
    static func utf8Precedes(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { x in b.withUTF8 { y in bytesPrecede(x, y) } }
    }

    static func bytesPrecede(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = min(x.count, y.count)
        if n > 0, let xa = x.baseAddress, let ya = y.baseAddress {
            let c = memcmp(xa, ya, n)
            if c != 0 { return c < 0 }
        }
        return x.count < y.count
    }
}
