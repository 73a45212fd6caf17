/// Where an IPC server listens.
public enum IPCListenTarget: Sendable, CustomStringConvertible {
    /// Bind this Unix socket path ourselves (a stale socket file is replaced; the file is removed on exit).
    case unix(path: String)
    /// An already bound and listening socket inherited from systemd (`LISTEN_FDS`); never unlinked.
    case descriptor(Int32, name: String)

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .descriptor(let fd, let name): "fd \(fd) (\(name))"
        }
    }
}
