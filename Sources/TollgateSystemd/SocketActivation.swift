import CSystemd

#if canImport(Glibc)
    import Glibc
#endif

/// Receiving listening sockets from systemd socket activation (`man sd_listen_fds`).
///
/// Call ``listenFDs(unsetEnvironment:)`` once, early in `main`, before other threads read the
/// environment: by default it unsets `LISTEN_PID`/`LISTEN_FDS`/`LISTEN_FDNAMES` so that child
/// processes do not believe the sockets are theirs.
///
/// ```swift
/// let fds = SocketActivation.listenFDs()
/// if let ipc = try SocketActivation.listener(named: "ipc", kind: .unixStream, in: fds) {
///     // serve ipc.fd (SwiftNIO: ServerBootstrap.withBoundSocket(ipc.fd))
/// } else {
///     // not socket-activated: bind our own socket path
/// }
/// ```
public enum SocketActivation {
    /// The kind of listening socket a service expects behind a name.
    public enum Kind: Sendable, Hashable, CustomStringConvertible {
        /// A listening `AF_UNIX` `SOCK_STREAM` socket (`ListenStream=/path`).
        case unixStream
        /// A listening `AF_INET`/`AF_INET6` `SOCK_STREAM` socket (`ListenStream=host:port`).
        case inetStream

        public var description: String {
            switch self {
            case .unixStream: "a listening Unix stream socket"
            case .inetStream: "a listening TCP socket"
            }
        }
    }

    /// The first descriptor passed by systemd (`SD_LISTEN_FDS_START`).
    public static let firstFD: Int32 = 3

    /// The descriptors passed to this process, in `LISTEN_FDS` order, with their names.
    ///
    /// Empty when the process was not socket-activated or `LISTEN_PID` names another process
    /// (libsystemd checks it). Names come from `LISTEN_FDNAMES`; when it is absent, or when it lists
    /// a different number of names than there are descriptors (libsystemd would then refuse and
    /// leave the descriptors orphaned), every name is `"unknown"` — so a service that looks up its
    /// socket by name fails with a clear message rather than silently binding a path itself. Each
    /// returned descriptor is close-on-exec.
    ///
    /// - Parameter unsetEnvironment: unset the `LISTEN_*` variables afterwards (default).
    public static func listenFDs(unsetEnvironment: Bool = true) -> [ListenFD] {
        defer { if unsetEnvironment { unsetListenEnvironment() } }
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        var count = sd_listen_fds_with_names(0, &names)
        var received: [String] = []
        if let names {
            for index in 0..<Int(max(count, 0)) {
                received.append(names[index].map { String(cString: $0) } ?? "unknown")
            }
            var cursor = names
            while let entry = cursor.pointee {
                free(entry)
                cursor += 1
            }
            free(names)
        }
        if count == -EINVAL {
            // Usually a LISTEN_FDNAMES / LISTEN_FDS count mismatch: keep the descriptors, unnamed.
            count = sd_listen_fds(0)
            received = []
        }
        guard count > 0 else { return [] }
        return (0..<count).map { offset in
            let fd = firstFD + offset
            setCloseOnExec(fd)
            let index = Int(offset)
            return ListenFD(fd: fd, name: index < received.count ? received[index] : "unknown")
        }
    }

    /// The first descriptor named `name`, if any.
    public static func first(named name: String, in fds: [ListenFD]) -> ListenFD? {
        fds.first { $0.name == name }
    }

    /// Whether `fd` is a listening `AF_UNIX` stream socket (`sd_is_socket_unix`), optionally bound
    /// to `path`.
    public static func isUnixStreamListener(fd: Int32, path: String? = nil) -> Bool {
        guard fd >= 0 else { return false }
        guard let path else { return sd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0 }
        return path.withCString { sd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, $0, 0) > 0 }
    }

    /// Whether `fd` is a listening TCP socket, IPv4 or IPv6 (`sd_is_socket_inet`), optionally on
    /// `port` (0 = any).
    public static func isInetStreamListener(fd: Int32, port: UInt16 = 0) -> Bool {
        guard fd >= 0 else { return false }
        return sd_is_socket_inet(fd, 0, Int32(SOCK_STREAM.rawValue), 1, port) > 0
    }

    /// Whether `fd` is of `kind`.
    public static func isListener(fd: Int32, kind: Kind) -> Bool {
        switch kind {
        case .unixStream: isUnixStreamListener(fd: fd)
        case .inetStream: isInetStreamListener(fd: fd)
        }
    }

    /// The descriptor named `name`, checked to be of `kind`.
    ///
    /// - Returns: `nil` when no descriptor has that name (the service was not socket-activated
    ///   for it and may bind its own socket).
    /// - Throws: ``SystemdError/Code/wrongSocketType`` when the descriptor exists but is of another
    ///   type — a unit file mistake the service must refuse to start with, rather than serve wrongly.
    public static func listener(named name: String, kind: Kind, in fds: [ListenFD]) throws(SystemdError) -> ListenFD? {
        guard let found = first(named: name, in: fds) else { return nil }
        guard isListener(fd: found.fd, kind: kind) else {
            throw SystemdError(
                .wrongSocketType,
                "socket-activated fd \(found.fd) named \"\(name)\" is not \(kind); check ListenStream= and FileDescriptorName= in the .socket unit"
            )
        }
        return found
    }

    private static func setCloseOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 && flags & FD_CLOEXEC == 0 {
            _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC)
        }
    }

    private static func unsetListenEnvironment() {
        for name in ["LISTEN_PID", "LISTEN_PIDFDID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
            unsetenv(name)
        }
    }
}
