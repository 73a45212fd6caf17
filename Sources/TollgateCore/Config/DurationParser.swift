/// Parses and prints human durations: `250ms`, `5s`, `1.5s`, `2m`, `48h`, `1d`; bare numbers are seconds.
public enum DurationParser {
    public static func parse(_ text: String) -> Duration? {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !s.isEmpty else { return nil }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            let number = String(s.dropLast(suffix.count))
            // "5ms" must not be read as "5m" + "s": the two-letter unit is tried first.
            guard let v = Double(number), v.isFinite, v >= 0 else { return nil }
            return .milliseconds(Int64((v * factor * 1000).rounded()))
        }
        guard let v = Double(s), v.isFinite, v >= 0 else { return nil }
        return .milliseconds(Int64((v * 1000).rounded()))
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
