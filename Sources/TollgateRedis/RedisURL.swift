import TollgateCore

/// Where and how to connect to Redis, parsed from a URL.
///
/// Accepted forms:
/// - `redis://[[user]:password@]host[:port][/db]` — port defaults to 6379, db to 0; an IPv6 host
///   goes in brackets (`redis://[::1]:6380`).
/// - `unix:///path/to/redis.sock[?db=N&password=...&user=...]`, also spelled `unix:/path`,
///   `redis+unix:///path` or `redis+unix:/path`.
///
/// User, password and socket path are percent-decoded. The password is kept as a ``Secret`` (and
/// so registered with ``Redactor/shared``); ``description`` shows `<redacted>` in its place and
/// parse errors never quote any part of the input.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    /// The transport to the server.
    public enum Endpoint: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    /// Default Redis TCP port.
    public static let defaultPort = 6379

    public let endpoint: Endpoint
    /// ACL user name for `AUTH user password`; `nil` means `AUTH password` (the default user).
    public let user: String?
    public let password: Secret?
    /// The database index selected on connect.
    public let database: Int

    /// Builds a URL from parts; the password (if any) is registered with the redactor.
    public init(endpoint: Endpoint, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.user = user
        self.password = password.map(Secret.init)
        self.database = database
    }

    /// Parses `string`; throws ``RedisError`` with code ``RedisError/Code/invalidURL``.
    public init(_ string: String) throws(RedisError) {
        self = try RedisURLParser.parse(string)
    }

    /// The URL with the password replaced by `<redacted>`.
    public var description: String {
        let dbPart = database == 0 ? "" : "\(database)"
        switch endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            var auth = ""
            if let user { auth = user }
            if password != nil { auth += ":<redacted>" }
            if !auth.isEmpty { auth += "@" }
            return "redis://\(auth)\(shownHost):\(port)/\(dbPart.isEmpty ? "0" : dbPart)"
        case .unix(let path):
            var query: [String] = []
            if database != 0 { query.append("db=\(database)") }
            if let user { query.append("user=\(user)") }
            if password != nil { query.append("password=<redacted>") }
            return "unix://\(path)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        }
    }

    /// `host:port` or the socket path: where a connection goes, for logs and errors.
    public var address: String {
        switch endpoint {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): path
        }
    }
}
