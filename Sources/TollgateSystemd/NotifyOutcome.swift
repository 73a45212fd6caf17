/// What happened to one ``SystemdNotifier/notify(_:)`` call. Never fatal: a
/// service keeps running when its supervisor cannot be told something.
public enum NotifyOutcome: Sendable, Hashable {
    /// The datagram was handed to the notify socket.
    case sent
    /// No `NOTIFY_SOCKET`: the process does not run under a notify-aware supervisor. Nothing sent.
    case notConfigured
    /// Sending failed (the supervisor went away, the socket path is wrong, ...).
    case failed(SystemdError)
}
