import CSystemd
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Tells the service manager about the service's state: `READY=1`, `STATUS=`, `WATCHDOG=1`,
/// `STOPPING=1` (`man sd_notify`).
///
/// Built from the process environment (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`), it sends
/// through libsystemd's `sd_notify`, which re-reads `NOTIFY_SOCKET` on every call; the environment
/// is never unset, so child processes started later (and repeated calls) behave the same. When no
/// supervisor is present every call is a cheap no-op that returns ``NotifyOutcome/notConfigured``.
///
/// Failures are returned and logged, never fatal: a service must keep serving when it cannot reach
/// its supervisor (and systemd will notice a missing `WATCHDOG=1` by itself).
///
/// ```swift
/// let notifier = SystemdNotifier(logger: logger)
/// notifier.notify(.ready, .status("serving 3 chats"))
/// if let every = notifier.recommendedPingInterval { /* ping .watchdog every `every` */ }
/// ```
public final class SystemdNotifier: Sendable {
    private enum Transport {
        case libsystemd
        case datagram(String)
    }

    /// The notify socket address (`NOTIFY_SOCKET`, or the injected path); `nil` when none.
    public let socketPath: String?
    /// The watchdog timeout the supervisor expects pings within; `nil` when the watchdog is off or
    /// meant for another process (`WATCHDOG_PID` is not ours).
    public let watchdogInterval: Duration?
    private let transport: Transport
    private let logger: Logger

    /// Whether a notify socket is configured, i.e. whether `notify` sends anything.
    public var isEnabled: Bool { socketPath != nil }

    /// How often to send `WATCHDOG=1`: half of ``watchdogInterval`` (systemd's own advice), or
    /// `nil` when the watchdog is off.
    public var recommendedPingInterval: Duration? { watchdogInterval.map { $0 / 2 } }

    /// A notifier for this process, configured from its environment.
    ///
    /// `watchdogInterval` comes from `sd_watchdog_enabled(0, &usec)`: `WATCHDOG_USEC` counts only
    /// when `WATCHDOG_PID` is absent or equal to our pid. It is read once, here.
    public init(logger: Logger = Logger(label: "tollgate.systemd")) {
        let path = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        self.socketPath = (path?.isEmpty ?? true) ? nil : path
        self.transport = .libsystemd
        self.watchdogInterval = Self.watchdogFromEnvironment()
        self.logger = logger
    }

    /// A notifier that sends to an explicit `AF_UNIX` datagram socket (`/path` or `@abstract`)
    /// instead of `NOTIFY_SOCKET` — for tests and tools. The process environment is not read.
    public init(
        socketPath: String, watchdogInterval: Duration? = nil,
        logger: Logger = Logger(label: "tollgate.systemd")
    ) {
        self.socketPath = socketPath
        self.transport = .datagram(socketPath)
        self.watchdogInterval = watchdogInterval
        self.logger = logger
    }

    /// Sends `states` in one datagram (lines joined by `\n`). See the array form for details.
    @discardableResult
    public func notify(_ states: NotifyState...) -> NotifyOutcome {
        notify(states)
    }

    /// Sends `states` in one datagram (lines joined by `\n`). An empty list sends nothing and
    /// counts as sent. Failures are logged at `warning` and returned.
    @discardableResult
    public func notify(_ states: [NotifyState]) -> NotifyOutcome {
        guard let socketPath else { return .notConfigured }
        guard !states.isEmpty else { return .sent }
        let message = NotifyState.render(states)
        let outcome: NotifyOutcome
        switch transport {
        case .libsystemd:
            let rc = message.withCString { sd_notify(0, $0) }
            if rc > 0 {
                outcome = .sent
            } else if rc == 0 {
                outcome = .notConfigured  // NOTIFY_SOCKET was unset since init
            } else {
                outcome = .failed(SystemdError(.notifyFailed, errno: -rc, "sd_notify to \(socketPath) failed"))
            }
        case .datagram(let path):
            outcome = NotifyDatagram.send(message, to: path).map { .failed($0) } ?? .sent
        }
        if case .failed(let error) = outcome {
            logger.warning(
                "cannot notify the service manager",
                metadata: ["error": "\(error)", "states": "\(states.map(\.kindName).joined(separator: ","))"])
        }
        return outcome
    }

    private static func watchdogFromEnvironment() -> Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(clamping: usec))
    }
}
