import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A process started by a test or a script, stopped by its pid — never by name.
///
/// Output goes to files (or /dev/null) so that a chatty child can never block on a full pipe.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    public let executable: String
    private let lock = NSLock()
    private var exitStatus: Int32?

    public enum LaunchError: Error, CustomStringConvertible {
        case spawnFailed(String, Int32)
        public var description: String {
            switch self {
            case .spawnFailed(let path, let err): "cannot start \(path): \(String(cString: strerror(err)))"
            }
        }
    }

    /// Starts `executable` with `arguments`. `environment` replaces the child's environment when given.
    /// `output` receives stdout and stderr (appended); `nil` discards them. `passing` are open
    /// descriptors the child receives as 3, 4, ... (socket activation's `LISTEN_FDS`); they must
    /// not be 0-2 or among the targets (dup them above 10 first). Nothing else is inherited.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        output: String? = nil, passing: [Int32] = []
    ) throws {
        self.executable = executable
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        let sink = output ?? "/dev/null"
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, sink, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        // Nothing else is inherited. hiredis and libcurl sockets are not close-on-exec, and tests
        // run in parallel in one process: a child started by one test (a redis-server, a service)
        // would otherwise hold another test's connections open after that test closed them.
        for (i, fd) in passing.enumerated() {
            posix_spawn_file_actions_adddup2(&fileActions, fd, 3 + Int32(i))
        }
        Self.closeFrom(3 + Int32(passing.count), &fileActions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Reset signal mask and dispositions: the test runner may block or ignore signals.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = environment ?? ProcessInfo.processInfo.environment
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var child = pid_t()
        let rc = posix_spawnp(&child, executable, &fileActions, &attributes, argv, envp)
        guard rc == 0 else { throw LaunchError.spawnFailed(executable, rc) }
        self.pid = child
    }

    /// Adds glibc's (2.34+) `posix_spawn_file_actions_addclosefrom_np(actions, first)`, looked up
    /// at run time because the Glibc module does not export it.
    private static func closeFrom(_ first: Int32, _ actions: inout posix_spawn_file_actions_t) {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, first)
    }

    /// Sends `signal` to the process (if it has not been reaped yet).
    public func signal(_ signal: Int32) {
        lock.lock()
        defer { lock.unlock() }
        if exitStatus == nil { _ = Glibc.kill(pid, signal) }
    }

    /// Reaps the process if it has exited; returns its raw wait status.
    @discardableResult
    public func poll() -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid {
            exitStatus = status
            return status
        }
        return nil
    }

    public var isRunning: Bool { poll() == nil }

    /// Waits up to `timeout` for the process to exit; returns its raw wait status.
    @discardableResult
    public func wait(timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let s = poll() { return s }
            usleep(10_000)
        }
        return poll()
    }

    /// SIGTERM, then SIGKILL after `grace`; always reaps.
    @discardableResult
    public func stop(grace: Duration = .seconds(10)) -> Int32? {
        signal(SIGTERM)
        if let s = wait(timeout: grace) { return s }
        signal(SIGKILL)
        return wait(timeout: .seconds(10))
    }

    /// kill -9 and reap.
    public func kill9() {
        signal(SIGKILL)
        wait(timeout: .seconds(10))
    }

    /// The exit code if the process exited normally.
    public static func exitCode(_ status: Int32) -> Int32? {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
    }

    /// The terminating signal if the process was killed by one.
    public static func terminatingSignal(_ status: Int32) -> Int32? {
        let sig = status & 0x7f
        return (sig != 0 && sig != 0x7f) ? sig : nil
    }

    deinit {
        if poll() == nil {
            _ = Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}
