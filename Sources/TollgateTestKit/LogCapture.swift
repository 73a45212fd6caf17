import Logging
import Synchronization

/// Collects every log event of the loggers it makes, at every level, as text: for tests that
/// check what was (or was never) logged, e.g. that a token never reaches a log line.
///
/// ```swift
/// let capture = LogCapture()
/// let client = HTTPClient(name: "t", logger: capture.logger("client"))
/// ...
/// #expect(!capture.contains("TEST-secret"))
/// ```
public final class LogCapture: Sendable {
    private let storage = Mutex<[String]>([])

    public init() {}

    /// A logger at `.trace` whose events land here.
    public func logger(_ label: String) -> Logger {
        Logger(label: label) { label in Handler(label: label, capture: self) }
    }

    /// Every event so far, one line each: `LEVEL label: message key=value ...`.
    public var lines: [String] { storage.withLock { $0 } }

    /// Whether any line contains `text`.
    public func contains(_ text: String) -> Bool {
        lines.contains { $0.contains(text) }
    }

    fileprivate func append(_ line: String) {
        storage.withLock { $0.append(line) }
    }

    private struct Handler: LogHandler {
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        let label: String
        let capture: LogCapture

        init(label: String, capture: LogCapture) {
            self.label = label
            self.capture = capture
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            if let extra = event.metadata { merged.merge(extra) { _, new in new } }
            var line = "\(event.level) \(label): \(event.message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
            if let error = event.error { line += " error=\(error)" }
            capture.append(line)
        }
    }
}
