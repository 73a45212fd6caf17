import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a command under `systemd-socket-activate` (systemd 252), the way a `.socket` unit with
/// `Accept=no` would start it — without a systemd PID 1.
///
/// What the tool does, and what tests must know (checked against 252.39):
/// - It binds every `-l` address at start-up (fds 3, 4, ... in the order given), then **waits for
///   the first connection on any of them before exec'ing the command**. Nothing runs until a test
///   connects (``connect(to:timeout:)``); that first connection stays queued and is served by the
///   command once it is up.
/// - It exec's in place: ``pid`` is the command's pid once it runs, `LISTEN_PID` equals it, and
///   stopping by pid stops the command.
/// - The command gets a **minimal environment**: `PATH`, `HOME`, `TERM`, `USER` (when set),
///   `LISTEN_FDS`, `LISTEN_PID`, `LISTEN_FDNAMES`, and only the variables named with `-E`. This
///   harness passes every entry of `environment` as `-E NAME` with its value in the tool's own
///   environment, so values (tokens) never appear on a command line.
/// - Names: `--fdname=a:b` and repeated `--fdname=a --fdname=b` both give `LISTEN_FDNAMES=a:b`;
///   a *single* name is repeated for every socket; a count that differs from the sockets is passed
///   as is (libsystemd then refuses the names — TollgateSystemd falls back to `"unknown"`).
/// - Unix socket files are left behind when the tool exits; ``stop(grace:)`` removes them.
/// - `WATCHDOG_PID` cannot be known before the spawn: pass `WATCHDOG_USEC` alone (libsystemd then
///   applies it to whichever process reads it).
public final class SocketActivator: Sendable {
    /// A listening address for `-l`.
    public enum Address: Sendable, Hashable, CustomStringConvertible {
        /// A Unix stream socket at a filesystem path (keep it under 108 bytes).
        case unix(String)
        /// A TCP socket on `host:port` (IPv4 literal; use ``TestNetwork/freePort()``).
        case tcp(host: String, port: Int)

        /// `127.0.0.1:port`.
        public static func loopback(port: Int) -> Address { .tcp(host: "127.0.0.1", port: port) }

        public var description: String {
            switch self {
            case .unix(let path): path
            case .tcp(let host, let port): "\(host):\(port)"
            }
        }
    }

    /// One socket to pass, with its `FileDescriptorName=`.
    public struct Socket: Sendable, Hashable {
        /// Where to listen.
        public let address: Address
        /// The name the command sees in `LISTEN_FDNAMES`.
        public let name: String

        /// A socket named `name` (printable ASCII, no `:`, at most 255 characters).
        public init(_ address: Address, name: String) {
            self.address = address
            self.name = name
        }
    }

    /// Why the activator could not start.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The tool, as installed by Debian's `systemd` package.
    public static let executable = "/usr/bin/systemd-socket-activate"

    /// The sockets, in fd order (the first is fd 3).
    public let sockets: [Socket]
    /// The tool's process; after activation, the command's.
    public let process: ChildProcess
    /// The full argument list given to the tool (for failure messages).
    public let arguments: [String]

    /// The pid of the tool, which becomes the command's pid when it exec's.
    public var pid: Int32 { process.pid }

    /// Starts `systemd-socket-activate` listening on `sockets`, ready to exec `command`.
    ///
    /// - Parameters:
    ///   - environment: variables for the command (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, configuration).
    ///   - output: file receiving the tool's and the command's stdout and stderr (appended).
    public init(
        command: String, arguments commandArguments: [String] = [], sockets: [Socket],
        environment: [String: String] = [:], output: String? = nil
    ) throws {
        guard access(Self.executable, X_OK) == 0 else {
            throw Failure(description: "\(Self.executable) is missing (Debian package: systemd)")
        }
        guard !sockets.isEmpty else { throw Failure(description: "socket activation needs at least one socket") }
        for socket in sockets where socket.name.isEmpty || socket.name.contains(":") || socket.name.utf8.count > 255 {
            throw Failure(description: "invalid fd name '\(socket.name)': 1-255 characters, no ':'")
        }
        var arguments = sockets.flatMap { ["-l", $0.address.description] }
        arguments.append("--fdname=" + sockets.map(\.name).joined(separator: ":"))
        for name in environment.keys.sorted() { arguments += ["-E", name] }
        arguments.append(command)
        arguments += commandArguments
        self.sockets = sockets
        self.arguments = arguments
        let toolEnvironment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        self.process = try ChildProcess(Self.executable, arguments, environment: toolEnvironment, output: output)
    }

    /// Waits until every socket is bound (the tool binds them all before waiting for a client).
    public func waitUntilListening(timeout: Duration = .seconds(5)) -> Bool {
        TestNetwork.waitUntil(timeout: timeout) {
            guard process.isRunning else { return true }
            return sockets.allSatisfy { socket in
                switch socket.address {
                case .unix(let path): access(path, F_OK) == 0
                case .tcp(_, let port): Self.isBoundTCP(port: port)
                }
            }
        } && process.isRunning
    }

    /// Connects to socket `index` — the first connection is what makes the tool exec the command.
    /// Retries while the socket is not bound yet.
    public func connect(to index: Int = 0, timeout: Duration = .seconds(5)) throws -> ConnectedSocket {
        switch sockets[index].address {
        case .unix(let path): try ConnectedSocket.unix(path: path, timeout: timeout)
        case .tcp(let host, let port): try ConnectedSocket.tcp(host: host, port: port, timeout: timeout)
        }
    }

    /// SIGTERM (by pid), SIGKILL after `grace`; reaps and removes the Unix socket files.
    @discardableResult
    public func stop(grace: Duration = .seconds(10)) -> Int32? {
        let status = process.stop(grace: grace)
        removeSocketFiles()
        return status
    }

    deinit {
        process.kill9()
        removeSocketFiles()
    }

    private func removeSocketFiles() {
        for socket in sockets {
            if case .unix(let path) = socket.address { unlink(path) }
        }
    }

    /// Whether something listens on the port, checked by binding (a probe connection would
    /// activate the command).
    private static func isBoundTCP(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        return !bound && errno == EADDRINUSE
    }
}
