import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A slowloris attacker: keeps `count` TCP connections open to `127.0.0.1:port`, half of them
/// silent, half trickling a request head one byte a second that never ends. A connection the
/// server closes is opened again (at most `reopensPerSecond`), so the pressure stays on for as
/// long as the flood runs. Plain non-blocking sockets on one thread of its own.
final class ConnectionFlood: Sendable {
    struct Counters: Sendable {
        var opened = 0
        var closedByServer = 0
        var openFailures = 0
        var open = 0
    }

    let port: UInt16
    let count: Int
    let reopensPerSecond: Int
    private let stopping = Atomic<Bool>(false)
    private let state = Mutex(Counters())
    private let finished = Mutex<Bool>(true)

    init(port: UInt16, count: Int, reopensPerSecond: Int = 100) {
        self.port = port
        self.count = count
        self.reopensPerSecond = reopensPerSecond
    }

    var counters: Counters { state.withLock { $0 } }

    /// Starts the flood on a thread of its own.
    func start() {
        finished.withLock { $0 = false }
        let thread = Thread { [self] in
            self.run()
            self.finished.withLock { $0 = true }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Stops the flood and closes every connection it holds.
    func stop() async {
        stopping.store(true, ordering: .relaxed)
        while !finished.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(20)) }
    }

    private struct Slot {
        var fd: Int32 = -1
        var trickle: Bool
        var sentHead = false
    }

    private func run() {
        var slots = (0..<count).map { Slot(trickle: $0 % 2 == 1) }
        var budget = reopensPerSecond
        var budgetStart = Date()
        var lastTrickle = Date()
        while !stopping.load(ordering: .relaxed) {
            if Date().timeIntervalSince(budgetStart) >= 1 {
                budget = reopensPerSecond
                budgetStart = Date()
            }
            // Open what is closed, within the budget.
            for i in slots.indices where slots[i].fd < 0 && budget > 0 {
                budget -= 1
                slots[i].fd = open()
                slots[i].sentHead = false
            }
            // Trickle: the head's start once, then one byte a second, never the blank line.
            let trickleNow = Date().timeIntervalSince(lastTrickle) >= 1
            if trickleNow { lastTrickle = Date() }
            for i in slots.indices where slots[i].fd >= 0 && slots[i].trickle {
                if !slots[i].sentHead {
                    if send(slots[i].fd, "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ") { slots[i].sentHead = true }
                } else if trickleNow {
                    _ = send(slots[i].fd, "a")
                }
            }
            // Which did the server close?
            var polls = slots.compactMap { $0.fd >= 0 ? pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) : nil }
            _ = poll(&polls, nfds_t(polls.count), 100)
            var closed = Set<Int32>()
            for p in polls where p.revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = read(p.fd, &buffer, buffer.count)
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EINPROGRESS && errno != EINTR) { closed.insert(p.fd) }
            }
            for i in slots.indices where closed.contains(slots[i].fd) {
                close(slots[i].fd)
                slots[i].fd = -1
            }
            let open = slots.filter { $0.fd >= 0 }.count
            state.withLock {
                $0.closedByServer += closed.count
                $0.open = open
            }
        }
        for slot in slots where slot.fd >= 0 { close(slot.fd) }
        state.withLock { $0.open = 0 }
    }

    private func open() -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            state.withLock { $0.openFailures += 1 }
            return -1
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 || errno == EINPROGRESS else {
            close(fd)
            state.withLock { $0.openFailures += 1 }
            return -1
        }
        state.withLock { $0.opened += 1 }
        return fd
    }

    private func send(_ fd: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }
}

/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit; returns the soft limit now in force.
func raiseOwnFileLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return Int(clamping: limit.rlim_cur)
}
