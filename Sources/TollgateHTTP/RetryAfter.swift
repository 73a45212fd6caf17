import CCurl
import CCurlShim
import TollgateCore

#if canImport(Glibc)
    import Glibc
#endif

/// Parses a `Retry-After` value: delta seconds (`"30"`) or an HTTP-date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`, also the obsolete RFC 850 and asctime forms).
enum RetryAfter {
    /// The wait the value asks for, relative to `now` (seconds since the epoch) for a date;
    /// never negative, never over ``longest`` (a consumer must still bound it to what it is willing
    /// to wait: see `PeerWait`); `nil` for an unparsable value.
    static func parse(_ value: String, now: Int = Int(time(nil))) -> Duration? {
        parseUnbounded(value, now: now).map { min($0, longest) }
    }

    /// The longest wait a value can say: 100 years (still sleepable without overflow).
    static let longest: Duration = .seconds(100 * 365 * 86400)

    private static func parseUnbounded(_ value: String, now: Int) -> Duration? {
        let trimmed = value.trimmingSpaces()
        guard !trimmed.isEmpty else { return nil }
        if trimmed.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            // Delta seconds; absurdly long values saturate rather than overflow.
            return .seconds(Int(trimmed) ?? Int.max)
        }
        // curl_getdate understands exactly the three date forms HTTP allows (RFC 9110 §5.6.7).
        let date = trimmed.withCString { curl_getdate($0, nil) }
        guard date >= 0 else { return nil }
        return .seconds(max(0, Int(date).saturatingMinus(now)))
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs (header values, form values).
    func trimmingSpaces() -> String {
        let bytes = Array(utf8)
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 || bytes[end - 1] == 0x0D
            || bytes[end - 1] == 0x0A
        {
            end -= 1
        }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
