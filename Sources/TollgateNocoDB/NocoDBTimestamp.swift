/// NocoDB's date-time text, to and from Unix milliseconds (UTC), without Foundation.
///
/// Read: `2026-01-01 10:00:00`, `2026-01-01 10:00:00+00:00`, `2026-01-01T10:00:00.123Z`,
/// `...+03:00` offsets. Written: `2026-01-01 10:00:00` (the `exactDate` form of `where`).
public enum NocoDBTimestamp {
    /// Unix milliseconds for a NocoDB date-time, or `nil` when it is not one.
    public static func parse(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var v: Int64 = 0
            for i in from..<(from + count) {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int64(b[i] - 0x30)
            }
            return v
        }
        guard b.count >= 19, let year = num(0, 4), b[4] == 0x2D, let month = num(5, 2), b[7] == 0x2D,
            let day = num(8, 2), b[10] == 0x20 || b[10] == 0x54, let hour = num(11, 2), b[13] == 0x3A,
            let minute = num(14, 2), b[16] == 0x3A, let second = num(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        var millis: Int64 = 0
        if i < b.count, b[i] == 0x2E {
            i += 1
            var digits = 0
            var fraction: Int64 = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
                if digits < 3 {
                    fraction = fraction * 10 + Int64(b[i] - 0x30)
                    digits += 1
                }
                i += 1
            }
            while digits < 3 {
                fraction *= 10
                digits += 1
            }
            millis = fraction
        }
        var offsetMinutes: Int64 = 0
        if i < b.count {
            if b[i] == 0x5A {
                i += 1
            } else if b[i] == 0x2B || b[i] == 0x2D, let oh = num(i + 1, 2) {
                var j = i + 3
                if j < b.count, b[j] == 0x3A { j += 1 }
                guard let om = num(j, 2) else { return nil }
                offsetMinutes = (oh * 60 + om) * (b[i] == 0x2D ? -1 : 1)
                i = j + 2
            } else {
                return nil
            }
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        return seconds * 1000 + millis
    }

    /// `YYYY-MM-DD HH:MM:SS` (UTC) for Unix milliseconds, the fraction dropped.
    /// Times outside years 1…9999 (which no NocoDB row holds) are shown as the nearest end.
    public static func format(_ ms: Int64) -> String {
        let ms = min(max(ms, -62_135_596_800_000), 253_402_300_799_999)
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let rest = seconds - days * 86400
        let (y, m, d) = civilFromDays(days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d)) \(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))"
    }

    /// Days since 1970-01-01 (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
