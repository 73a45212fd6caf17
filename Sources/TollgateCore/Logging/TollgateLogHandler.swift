import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A `LogHandler` that writes one line per event to standard error, scrubbed by ``Redactor``.
///
/// Under systemd (stderr connected to the journal, `JOURNAL_STREAM` set) each line starts with a
/// `<N>` syslog priority so that journald records the level; elsewhere it starts with a UTC time.
/// Format: `LEVEL label: message key=value ...` — metadata sorted by key, values quoted when they
/// contain spaces.
public struct TollgateLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let journal: Bool

    public init(label: String, level: Logger.Level = .info, journal: Bool) {
        self.label = label
        self.logLevel = level
        self.journal = journal
    }

    /// Installs this handler for the whole process. Call once, from `main`.
    public static func bootstrap(level: Logger.Level, environment: [String: String]) {
        let journal = environment["JOURNAL_STREAM"] != nil
        LoggingSystem.bootstrap { label in TollgateLogHandler(label: label, level: level, journal: journal) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line = Self.format(
            level: event.level, label: label, message: event.message.description, metadata: merged,
            journal: journal)
        Self.write(Redactor.shared.redact(line))
    }

    static func format(
        level: Logger.Level, label: String, message: String, metadata: Logger.Metadata, journal: Bool
    ) -> String {
        var line = ""
        if journal {
            line = "<\(syslogPriority(level))>"
        } else {
            line = WallClock.utcTimestamp() + " "
        }
        line += "\(level.rawValue.uppercased()) \(label): \(message)"
        for key in metadata.keys.sorted() {
            line += " \(key)=\(quote(metadata[key]!.description))"
        }
        // One event, one line: newlines inside a message would forge journal entries.
        return line.replacingAll("\n", with: "\\n")
    }

    static func quote(_ value: String) -> String {
        if value.isEmpty { return "\"\"" }
        if value.contains(" ") || value.contains("\"") || value.contains("=") {
            return "\"" + value.replacingAll("\"", with: "\\\"") + "\""
        }
        return value
    }

    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    private static let writeLock = Mutex(())

    private static func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        writeLock.withLock { _ in
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    offset += n
                }
            }
        }
    }
}

/// Wall-clock helpers that need no Foundation.
public enum WallClock {
    /// Milliseconds since the Unix epoch.
    public static func epochMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// `2026-11-22T14:57:03.123Z`
    public static func utcTimestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + "\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
    }
}
