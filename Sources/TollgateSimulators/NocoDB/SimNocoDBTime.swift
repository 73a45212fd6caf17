#if canImport(Glibc)
    import Glibc
#endif

/// Wall-clock time and NocoDB's date-time text for the simulator.
enum SimNocoDBTime {
    /// Unix milliseconds now.
    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// `YYYY-MM-DD HH:MM:SS+00:00`, as NocoDB v2 answers system dates.
    static func format(_ ms: Int64) -> String {
        var t = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))+00:00"
    }

    /// Unix ms of `YYYY-MM-DD[ HH:MM[:SS]]` (UTC; a trailing `+00:00`/`Z` accepted), or nil.
    static func parse(_ text: String) -> Int64? {
        var s = Substring(text)
        if s.hasSuffix("+00:00") { s = s.dropLast(6) }
        if s.hasSuffix("Z") { s = s.dropLast() }
        let pieces = s.split(whereSeparator: { $0 == " " || $0 == "T" })
        guard pieces.count >= 1, pieces.count <= 2 else { return nil }
        let date = pieces[0].split(separator: "-").compactMap { Int32($0) }
        guard date.count == 3 else { return nil }
        var clock: [Double] = [0, 0, 0]
        if pieces.count == 2 {
            let parts = pieces[1].split(separator: ":").compactMap { Double($0) }
            guard parts.count >= 2, parts.count <= 3 else { return nil }
            for (i, p) in parts.enumerated() { clock[i] = p }
        }
        var parts = tm()
        parts.tm_year = date[0] - 1900
        parts.tm_mon = date[1] - 1
        parts.tm_mday = date[2]
        parts.tm_hour = Int32(clock[0])
        parts.tm_min = Int32(clock[1])
        parts.tm_sec = Int32(clock[2])
        let seconds = timegm(&parts)
        guard seconds != -1 || date[0] == 1969 else { return nil }
        return Int64(seconds) * 1000 + Int64(((clock[2] - clock[2].rounded(.down)) * 1000).rounded())
    }
}
