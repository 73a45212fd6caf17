/// The two services of Tollgate, and the names each uses for its sockets and settings.
public enum ServiceKind: String, Sendable, CaseIterable {
    case gateway
    case poller

    /// The binary and unit name.
    public var name: String {
        switch self {
        case .gateway: "bot-gateway"
        case .poller: "poller-scheduler"
        }
    }

    /// `FileDescriptorName=` of the IPC socket unit (`LISTEN_FDNAMES`).
    public var ipcFDName: String { rawValue }

    /// `FileDescriptorName=` of the ops HTTP socket unit.
    public var httpFDName: String { rawValue + "-http" }

    /// The variable naming this service's IPC socket path (used to bind it without systemd, and by
    /// the other service to connect to it).
    public var socketVariable: String {
        switch self {
        case .gateway: "GATEWAY_SOCKET"
        case .poller: "POLLER_SOCKET"
        }
    }

    /// The variable naming the ops HTTP listen address.
    public var httpVariable: String {
        switch self {
        case .gateway: "GATEWAY_HTTP"
        case .poller: "POLLER_HTTP"
        }
    }

    public var defaultSocketPath: String { "/run/tollgate/\(rawValue).sock" }

    /// Gateway: a fixed loopback port. Pollers run as several instances, so their default is an
    /// ephemeral port (reported in `stats`); units give each instance its own.
    public var defaultHTTP: String {
        switch self {
        case .gateway: "127.0.0.1:9180"
        case .poller: "127.0.0.1:0"
        }
    }
}
