import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Socket activation without systemd, for sockets shared by several processes (which
/// `systemd-socket-activate` cannot do): the caller binds and listens, and starts each process
/// with the listening descriptors as fd 3, 4, ... and `LISTEN_FDS`, `LISTEN_FDNAMES`, `LISTEN_PID`
/// set as systemd sets them.
public enum ActivatedProcess {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Binds `path` (replacing a stale file), listens with `backlog`, and returns the descriptor,
    /// close-on-exec and numbered above 10 (so handing it over as fd 3 never collides).
    public static func listenUnix(path: String, backlog: Int32 = 512) throws -> Int32 {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket(): \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw Failure(description: "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot listen on \(path): \(reason)")
        }
        let high = fcntl(fd, F_DUPFD_CLOEXEC, 10)
        close(fd)
        guard high >= 0 else { throw Failure(description: "fcntl(F_DUPFD_CLOEXEC): \(String(cString: strerror(errno)))") }
        return high
    }

    /// Starts `executable` with `sockets` (descriptor, name) as its activated sockets.
    /// `LISTEN_PID` must be the service's own pid, known only in the child: a shell sets it to its
    /// `$$` and then execs the service, which keeps that pid.
    public static func start(
        _ executable: String, sockets: [(fd: Int32, name: String)], environment: [String: String], output: String?
    ) throws -> ChildProcess {
        var env = environment
        env["LISTEN_FDS"] = "\(sockets.count)"
        env["LISTEN_FDNAMES"] = sockets.map(\.name).joined(separator: ":")
        return try ChildProcess(
            "/bin/sh", ["-c", "LISTEN_PID=$$; export LISTEN_PID; exec \"$0\"", executable],
            environment: env, output: output, passing: sockets.map(\.fd))
    }
}
