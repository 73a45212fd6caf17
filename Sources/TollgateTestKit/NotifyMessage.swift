/// One datagram received by a ``NotifySocketListener``: the sd_notify text, when it arrived, and
/// which process sent it (from the kernel's `SCM_CREDENTIALS`, so it cannot be faked by the text).
public struct NotifyMessage: Sendable, Hashable, CustomStringConvertible {
    /// The raw text, e.g. `"READY=1\nSTATUS=serving"`.
    public let text: String
    /// When the listener received it (monotonic clock).
    public let time: ContinuousClock.Instant
    /// The sender's pid as seen by the kernel, when credentials were attached.
    public let senderPID: Int32?

    /// Creates a message; normally produced by the listener.
    public init(text: String, time: ContinuousClock.Instant, senderPID: Int32?) {
        self.text = text
        self.time = time
        self.senderPID = senderPID
    }

    /// The assignments, one per line (`"READY=1"`, `"STATUS=..."`).
    public var lines: [String] {
        text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// Whether one of the lines is exactly `line`.
    public func contains(_ line: String) -> Bool {
        lines.contains(line)
    }

    /// The value of the first `key=value` line, e.g. `value(of: "STATUS")`.
    public func value(of key: String) -> String? {
        let prefix = key + "="
        return lines.first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    public var description: String {
        "[pid \(senderPID.map(String.init) ?? "?")] " + text.split(separator: "\n").joined(separator: " | ")
    }
}
