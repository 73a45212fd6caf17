import TollgateCore

/// One assignment of the sd_notify protocol (`man sd_notify`), rendered to its wire line.
///
/// Several states are joined by `\n` into a single datagram by ``SystemdNotifier``, so that
/// `READY=1` and the first `STATUS=` arrive together.
public enum NotifyState: Sendable, Hashable {
    /// `READY=1` — the service can do its job (for `Type=notify`, start-up is finished).
    case ready
    /// `STOPPING=1` — shutdown has begun.
    case stopping
    /// `RELOADING=1` — configuration is being reloaded; send ``ready`` when done.
    case reloading
    /// `WATCHDOG=1` — keep-alive ping, from the loop whose health it proves.
    case watchdog
    /// `WATCHDOG=trigger` — ask the supervisor to act as if the watchdog had expired.
    case watchdogTrigger
    /// `STATUS=...` — one line of live state. Newlines and control characters become spaces and
    /// the text goes through ``Redactor/shared``, so a secret never reaches `systemctl status`.
    case status(String)
    /// `EXTEND_TIMEOUT_USEC=n` — ask for more time for start-up, reload or shutdown.
    case extendTimeout(Duration)
    /// `MAINPID=n` — the main process is another one.
    case mainPID(Int32)
    /// `ERRNO=n` — the errno-style reason of a failure.
    case errno(Int32)
    /// Any other assignment, such as `FDSTORE=1`, passed as one line (control characters become
    /// spaces, so it can never smuggle in a second assignment).
    case custom(String)

    /// The line sent on the wire, without a trailing newline.
    public var line: String {
        switch self {
        case .ready: "READY=1"
        case .stopping: "STOPPING=1"
        case .reloading: "RELOADING=1"
        case .watchdog: "WATCHDOG=1"
        case .watchdogTrigger: "WATCHDOG=trigger"
        case .status(let text): "STATUS=" + Redactor.shared.redact(Self.oneLine(text))
        case .extendTimeout(let duration): "EXTEND_TIMEOUT_USEC=\(Self.microseconds(duration))"
        case .mainPID(let pid): "MAINPID=\(pid)"
        case .errno(let number): "ERRNO=\(number)"
        case .custom(let assignment): Self.oneLine(assignment)
        }
    }

    /// The datagram for `states`: their lines joined by `\n`.
    public static func render(_ states: [NotifyState]) -> String {
        states.map(\.line).joined(separator: "\n")
    }

    /// Replaces newlines, NUL and other control characters by spaces (a C string ends at NUL; the
    /// protocol ends an assignment at a newline).
    static func oneLine(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            // "\r\n" is one line break: one space, not two.
            if scalar == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = scalar == "\r"
            let isControl = scalar.value < 0x20 || scalar.value == 0x7F
            let isLineBreak = scalar == "\u{85}" || scalar == "\u{2028}" || scalar == "\u{2029}"
            scalars.append(isControl || isLineBreak ? " " : scalar)
        }
        return String(scalars)
    }

    /// Whole microseconds in `duration`, clamped to `0...UInt64.max`.
    static func microseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, !(seconds == 0 && attoseconds <= 0) else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000)
        if overflow { return .max }
        let (total, overflow2) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000_000))
        return overflow2 ? .max : total
    }
}

extension NotifyState {
    /// The assignment's key, for logs (a `STATUS=` text never goes into a failure log line).
    var kindName: String {
        switch self {
        case .ready: "READY"
        case .stopping: "STOPPING"
        case .reloading: "RELOADING"
        case .watchdog, .watchdogTrigger: "WATCHDOG"
        case .status: "STATUS"
        case .extendTimeout: "EXTEND_TIMEOUT_USEC"
        case .mainPID: "MAINPID"
        case .errno: "ERRNO"
        case .custom(let text): String(text.prefix { $0 != "=" }.prefix(32))
        }
    }
}
