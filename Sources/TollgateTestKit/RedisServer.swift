import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A private `redis-server` on a free loopback port, owned by one test or benchmark.
///
/// It is started with persistence off (or AOF on, for durability tests) in its own directory, and
/// stopped by pid. `restart()` keeps the port, so clients can test reconnection.
public final class RedisServer: @unchecked Sendable {
    public let port: Int
    public let directory: String
    public let appendOnly: Bool
    public let arguments: [String]
    /// The `requirepass` password, if the server was started with one.
    public let password: String?
    /// The Unix socket the server also listens on, if started with `unixSocket: true`.
    public let socketPath: String?
    private var process: ChildProcess?

    /// `redis://127.0.0.1:<port>/0`
    public var url: String { "redis://127.0.0.1:\(port)/0" }

    public enum Failure: Error, CustomStringConvertible {
        case notFound, didNotStart(String)
        public var description: String {
            switch self {
            case .notFound: "redis-server is not installed (apt-get install redis-server)"
            case .didNotStart(let log): "redis-server did not start: \(log)"
            }
        }
    }

    /// - Parameters:
    ///   - password: started with `--requirepass` (clients must `AUTH`).
    ///   - unixSocket: also listen on `<directory>/redis.sock` (mode 700).
    ///   - arguments: more `redis-server` options, after the defaults (`["--appendfsync", "everysec"]`).
    public init(
        appendOnly: Bool = false, port: Int? = nil, password: String? = nil, unixSocket: Bool = false,
        arguments: [String] = []
    ) throws {
        self.arguments = arguments
        self.port = port ?? TestNetwork.freePort()
        self.directory = TestNetwork.temporaryDirectory(prefix: "redis")
        self.appendOnly = appendOnly
        self.password = password
        self.socketPath = unixSocket ? directory + "/redis.sock" : nil
        try start()
    }

    public static func executable() -> String? {
        for dir in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
            let path = dir + "/redis-server"
            if access(path, X_OK) == 0 { return path }
        }
        return nil
    }

    public func start() throws {
        guard let exe = Self.executable() else { throw Failure.notFound }
        let args: [String] = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory, "--save", "",
            "--appendonly", appendOnly ? "yes" : "no", "--appendfsync", "always",
            "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning",
            "--logfile", "",
        ] + (password.map { ["--requirepass", $0] } ?? [])
            + (socketPath.map { ["--unixsocket", $0, "--unixsocketperm", "700"] } ?? []) + arguments
        let p = try ChildProcess(exe, args, output: directory + "/redis.log")
        process = p
        let up = TestNetwork.waitUntil(timeout: .seconds(10)) { TestNetwork.isListening(port: port) || !p.isRunning }
        guard up, p.isRunning else {
            let log = (try? String(contentsOfFile: directory + "/redis.log", encoding: .utf8)) ?? ""
            throw Failure.didNotStart(String(log.suffix(500)))
        }
    }

    /// Stops the server (SIGTERM, by pid) and waits until it has exited.
    public func stop() {
        process?.stop(grace: .seconds(10))
        process = nil
    }

    /// kill -9: the server dies without saving.
    public func kill9() {
        process?.kill9()
        process = nil
    }

    public func restart() throws {
        stop()
        try start()
    }

    public var pid: Int32? { process?.pid }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
