/// Percent-decoding of request targets, query strings and form bodies (RFC 3986,
/// application/x-www-form-urlencoded). Invalid escapes are kept literally; invalid UTF-8 is
/// repaired, never rejected.
enum URLEncoding {
    /// Splits `/path?query#fragment` into the raw path and the raw query.
    static func splitTarget(_ target: String) -> (path: String, query: String) {
        var target = Substring(target)
        if let hash = target.firstIndex(of: "#") { target = target[..<hash] }
        guard let mark = target.firstIndex(of: "?") else { return (String(target), "") }
        return (String(target[..<mark]), String(target[target.index(after: mark)...]))
    }

    /// `a=1&b=x+y&c` → `[("a","1"), ("b","x y"), ("c","")]`; empty pieces are skipped.
    static func parsePairs(_ text: String) -> [(String, String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { piece in
            if let equals = piece.firstIndex(of: "=") {
                return (
                    percentDecode(piece[..<equals], plusIsSpace: true),
                    percentDecode(piece[piece.index(after: equals)...], plusIsSpace: true)
                )
            }
            return (percentDecode(piece, plusIsSpace: true), "")
        }
    }

    /// Decodes `%XX` escapes (and `+` as a space when `plusIsSpace`).
    static func percentDecode<S: StringProtocol>(_ text: S, plusIsSpace: Bool) -> String {
        let bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: "%")) || (plusIsSpace && bytes.contains(UInt8(ascii: "+"))) else {
            return String(text)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "%"), i + 2 < bytes.count, let high = hexValue(bytes[i + 1]),
                let low = hexValue(bytes[i + 2])
            {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
