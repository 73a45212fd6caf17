/// Where an ``HTTPServer`` listens.
public enum HTTPListenTarget: Sendable, Equatable {
    /// A TCP address; port 0 picks a free port (read it back with ``HTTPServer/listeningAddress()``).
    case tcp(host: String, port: Int)
    /// A Unix domain socket the server creates (removing a stale socket file first) and removes
    /// when it stops.
    case unix(path: String)
    /// An already bound and listening socket, e.g. inherited through systemd socket activation
    /// (`LISTEN_FDS`). The server never unlinks anything for it.
    case descriptor(Int32)
}
