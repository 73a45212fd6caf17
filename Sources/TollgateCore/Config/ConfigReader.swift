/// Reads typed settings from a ``ConfigSource`` and collects every problem instead of stopping at
/// the first, so that a misconfigured service prints all of them — one line each — and exits.
///
/// ```swift
/// var reader = ConfigReader(source)
/// let token = reader.secret("BOT_TOKEN", credential: "bot-token")
/// let interval = reader.duration("POLL_INTERVAL", default: .seconds(60), min: .seconds(1))
/// try reader.finish()   // throws ConfigError listing every problem
/// ```
public struct ConfigReader: Sendable {
    public let source: ConfigSource
    public private(set) var problems: [String]

    public init(_ source: ConfigSource) {
        self.source = source
        self.problems = source.fileProblems
    }

    public mutating func problem(_ key: String, _ text: String) {
        problems.append("\(key): \(text)")
    }

    /// A string setting; `nil` default means required.
    public mutating func string(_ key: String, default defaultValue: String? = nil) -> String {
        if let v = source[key] { return v }
        if let defaultValue { return defaultValue }
        problem(key, "missing (set it in the environment or the TOLLGATE_CONFIG file)")
        return ""
    }

    /// An optional string setting.
    public mutating func optionalString(_ key: String) -> String? { source[key] }

    /// A secret: `$CREDENTIALS_DIRECTORY/<credential>` first, then the variable itself.
    public mutating func secret(_ key: String, credential: String, required: Bool = true) -> Secret? {
        if let v = source.credential(credential) { return Secret(v) }
        if let v = source[key] { return Secret(v) }
        if required {
            problem(key, "missing (set it in the environment, the TOLLGATE_CONFIG file, or as systemd credential '\(credential)')")
        }
        return nil
    }

    public mutating func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        guard let raw = source[key] else { return defaultValue }
        guard let v = Int(raw.filter { $0 != "_" }) else {
            problem(key, "expected an integer, got '\(Self.shown(raw))'")
            return defaultValue
        }
        guard range.contains(v) else {
            problem(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(v)")
            return defaultValue
        }
        return v
    }

    public mutating func double(_ key: String, default defaultValue: Double, range: ClosedRange<Double>) -> Double {
        guard let raw = source[key] else { return defaultValue }
        guard let v = Double(raw), v.isFinite else {
            problem(key, "expected a number, got '\(Self.shown(raw))'")
            return defaultValue
        }
        guard range.contains(v) else {
            problem(key, "must be between \(range.lowerBound) and \(range.upperBound), got \(v)")
            return defaultValue
        }
        return v
    }

    public mutating func bool(_ key: String, default defaultValue: Bool) -> Bool {
        guard let raw = source[key]?.lowercased() else { return defaultValue }
        switch raw {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            problem(key, "expected true or false, got '\(Self.shown(raw))'")
            return defaultValue
        }
    }

    /// A duration such as `250ms`, `5s`, `2m`, `48h`, `1d`; a bare number means seconds.
    public mutating func duration(
        _ key: String, default defaultValue: Duration, min: Duration = .zero, max: Duration = .seconds(365 * 86400)
    ) -> Duration {
        guard let raw = source[key] else { return defaultValue }
        guard let v = DurationParser.parse(raw) else {
            problem(key, "expected a duration like 500ms, 5s, 2m or 48h, got '\(Self.shown(raw))'")
            return defaultValue
        }
        guard v >= min, v <= max else {
            problem(key, "must be between \(DurationParser.format(min)) and \(DurationParser.format(max)), got \(raw)")
            return defaultValue
        }
        return v
    }

    /// One of a fixed set of words.
    public mutating func choice(_ key: String, default defaultValue: String, allowed: [String]) -> String {
        guard let raw = source[key] else { return defaultValue }
        guard allowed.contains(raw) else {
            problem(key, "must be one of \(allowed.joined(separator: ", ")), got '\(Self.shown(raw))'")
            return defaultValue
        }
        return raw
    }

    /// An http(s) URL without trailing slash.
    public mutating func httpURL(_ key: String, default defaultValue: String? = nil) -> String {
        let raw = string(key, default: defaultValue)
        guard !raw.isEmpty else { return raw }
        guard raw.hasPrefix("http://") || raw.hasPrefix("https://"), raw.count > 8 else {
            problem(key, "expected an http:// or https:// URL, got '\(Self.shown(raw))'")
            return raw
        }
        return raw.hasSuffix("/") ? String(raw.dropLast()) : raw
    }

    /// Throws ``ConfigError`` when any problem was recorded.
    public func finish() throws(ConfigError) {
        if !problems.isEmpty { throw ConfigError(problems: problems) }
    }

    /// A value echoed in an error, through the redactor and cut short.
    public static func shown(_ raw: String) -> String {
        let cut = raw.count > 60 ? String(raw.prefix(57)) + "..." : raw
        return Redactor.shared.redact(cut)
    }
}

/// The configuration is invalid; ``problems`` holds one human-readable line per problem.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let problems: [String]
    public init(problems: [String]) { self.problems = problems }
    public var description: String { problems.joined(separator: "\n") }
    /// The exit status for a configuration error (`EX_CONFIG`).
    public static let exitCode: Int32 = 78
}
