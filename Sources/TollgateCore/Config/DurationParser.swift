/// Parses and prints human durations: `250ms`, `5s`, `1.5s`, `2m`, `48h`, `1d`; bare numbers are seconds.
///
/// Only plain decimal numbers are read (no `1e20`, `inf`, `0x1p70`), and nothing longer than
/// ``longest``: a value no setting could mean is refused as unparsable instead of overflowing.
public enum DurationParser {
    /// The longest duration accepted: 100 years.
    public static let longest: Duration = .seconds(100 * 365 * 86400)

    public static func parse(_ text: String) -> Duration? {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !s.isEmpty else { return nil }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            let number = String(s.dropLast(suffix.count))
            // "5ms" must not be read as "5m" + "s": the two-letter unit is tried first.
            return milliseconds(number, factor: factor)
        }
        return milliseconds(s, factor: 1)
    }

    /// `number` (digits with at most one decimal point) times `factor` seconds, in whole ms.
    private static func milliseconds(_ number: String, factor: Double) -> Duration? {
        var points = 0
        guard !number.isEmpty,
            number.utf8.allSatisfy({ b in
                if b == UInt8(ascii: ".") { points += 1 }
                return (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: ".")
            }), points <= 1, number != "."
        else { return nil }
        guard let v = Double(number), v.isFinite, v >= 0 else { return nil }
        let ms = (v * factor * 1000).rounded()
        guard ms <= Double(longest.milliseconds), let whole = Int64(exactly: ms) else { return nil }
        return .milliseconds(whole)
    }

    public static func format(_ d: Duration) -> String {
        let ms = d.milliseconds
        if ms % 86_400_000 == 0, ms > 0 { return "\(ms / 86_400_000)d" }
        if ms % 3_600_000 == 0, ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0, ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

import Foundation
