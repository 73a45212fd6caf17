import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback helpers for tests: free ports, waiting for a listener, temporary directories.
public enum TestNetwork {
    /// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        precondition(ok, "cannot bind a loopback port")
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func isListening(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Polls `condition` every 10 ms until it holds or `timeout` passes.
    public static func waitUntil(timeout: Duration, _ condition: () -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    /// The value a child process announces on a `NAME=value` line of its log (a simulator's
    /// `TELEGRAM_API_URL=`, `NOCODB_URL=`), once it appears within `timeout`.
    public static func announced(_ name: String, in logPath: String, timeout: Duration = .seconds(20)) async -> String? {
        await offPool { () -> String? in
            var value: String?
            _ = waitUntil(timeout: timeout) {
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                value = log.split(separator: "\n").first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
                return value != nil
            }
            return value
        }
    }

    /// A fresh directory under $TMPDIR (short, so Unix socket paths stay under 108 bytes).
    public static func temporaryDirectory(prefix: String = "tg") -> String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(result != nil, "mkdtemp failed")
        return String(cString: result!)
    }
}
