import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A test-owned sd_notify endpoint: an `AF_UNIX` `SOCK_DGRAM` socket at a short temporary path
/// that records every datagram (text, monotonic arrival time, sender pid).
///
/// Point a process at it with `NOTIFY_SOCKET=<path>` (``environment``), then wait for what it
/// says. Datagrams from libsystemd's `sd_notify` carry no ancillary data (it attaches credentials
/// only when notifying on behalf of another pid); the listener sets `SO_PASSCRED` so that the
/// kernel attaches the sender's real pid to every datagram, which lets a test tell several
/// instances apart and check that `READY=1` came from the main process.
///
/// ```swift
/// let notify = try NotifySocketListener()
/// defer { notify.close() }
/// let service = try ChildProcess(binary, [], environment: env.merging(notify.environment) { $1 })
/// #expect(notify.waitFor("READY=1", timeout: .seconds(10)) != nil)
/// ```
public final class NotifySocketListener: Sendable {
    /// Why the listener could not be created.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The socket path to put in `NOTIFY_SOCKET`.
    public let path: String
    /// The private directory holding the socket (removed by ``close()``).
    public let directory: String
    private let receiver: Receiver
    private let thread = Mutex<pthread_t?>(nil)

    /// `["NOTIFY_SOCKET": path]`, to merge into a child's environment.
    public var environment: [String: String] { ["NOTIFY_SOCKET": path] }

    /// Binds the socket in a fresh temporary directory and starts receiving on a dedicated thread.
    public init() throws {
        directory = TestNetwork.temporaryDirectory(prefix: "ntf")
        path = directory + "/notify.sock"
        let fd = try Self.bindDatagramSocket(path: path)
        receiver = Receiver(fd: fd)
        let retained = Unmanaged.passRetained(receiver)
        var tid = pthread_t()
        let rc = pthread_create(
            &tid, nil,
            { raw in
                let receiver = Unmanaged<Receiver>.fromOpaque(raw!).takeRetainedValue()
                receiver.run()
                return nil
            }, retained.toOpaque())
        guard rc == 0 else {
            retained.release()
            Glibc.close(fd)
            throw Failure(description: "cannot start the notify receiver thread: \(rc)")
        }
        thread.withLock { $0 = tid }
    }

    /// Every message received so far, oldest first.
    public var messages: [NotifyMessage] { receiver.snapshot() }

    /// How many messages contain exactly `line` (e.g. `"WATCHDOG=1"`).
    public func count(of line: String, after instant: ContinuousClock.Instant? = nil) -> Int {
        messages.filter { message in message.contains(line) && instant.map { message.time > $0 } ?? true }.count
    }

    /// Waits until a message containing exactly `line` has arrived (optionally: after `instant`).
    /// Returns the first such message, or `nil` after `timeout`.
    public func waitFor(_ line: String, after instant: ContinuousClock.Instant? = nil, timeout: Duration) -> NotifyMessage? {
        waitFor(after: instant, timeout: timeout) { $0.contains(line) }
    }

    /// Waits until a message satisfying `predicate` has arrived (optionally: after `instant`).
    /// Returns the first such message, or `nil` after `timeout`.
    public func waitFor(
        after instant: ContinuousClock.Instant? = nil, timeout: Duration, _ predicate: (NotifyMessage) -> Bool
    ) -> NotifyMessage? {
        let deadline = ContinuousClock.now + timeout
        var checked = 0
        while true {
            let all = messages
            for message in all[checked...] where (instant.map { message.time > $0 } ?? true) && predicate(message) {
                return message
            }
            checked = all.count
            if ContinuousClock.now >= deadline { return nil }
            usleep(5_000)
        }
    }

    /// Stops the receiver thread, closes the socket and removes its directory. Idempotent.
    public func close() {
        guard let tid = thread.withLock({ current -> pthread_t? in
            defer { current = nil }
            return current
        }) else { return }
        receiver.stop()
        pthread_join(tid, nil)
        unlink(path)
        rmdir(directory)
    }

    deinit { close() }

    private static func bindDatagramSocket(path: String) throws -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw Failure(description: "socket path too long (\(bytes.count) bytes, max 107): \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket(): \(String(cString: strerror(errno)))") }
        var on: Int32 = 1
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
        guard bound, setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw Failure(description: "cannot bind notify socket \(path): \(message)")
        }
        return fd
    }
}

/// The receiving half: owns the descriptor and the recorded messages; runs on its own thread.
private final class Receiver: Sendable {
    private static let scmCredentials: Int32 = 2  // SCM_CREDENTIALS (a GNU-only name in Glibc)
    private let fd: Int32
    private let stopping = Atomic<Bool>(false)
    private let received = Mutex<[NotifyMessage]>([])

    init(fd: Int32) { self.fd = fd }

    func snapshot() -> [NotifyMessage] { received.withLock { $0 } }

    func stop() { stopping.store(true, ordering: .releasing) }

    /// Polls with a short timeout so that ``stop()`` is noticed; drains every ready datagram.
    func run() {
        defer { Glibc.close(fd) }
        let capacity = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        let controlCapacity = 256
        let control = UnsafeMutableRawPointer.allocate(byteCount: controlCapacity, alignment: 8)
        defer {
            buffer.deallocate()
            control.deallocate()
        }
        var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while !stopping.load(ordering: .acquiring) {
            ready.revents = 0
            let r = poll(&ready, 1, 20)
            if r < 0 && errno != EINTR { return }
            guard r > 0 else { continue }
            while let message = receiveOne(buffer: buffer, capacity: capacity, control: control, controlCapacity: controlCapacity) {
                received.withLock { $0.append(message) }
            }
        }
    }

    private func receiveOne(
        buffer: UnsafeMutableRawPointer, capacity: Int, control: UnsafeMutableRawPointer, controlCapacity: Int
    ) -> NotifyMessage? {
        var vector = iovec(iov_base: buffer, iov_len: capacity)
        var header = msghdr()
        let length: Int = withUnsafeMutablePointer(to: &vector) { vectorPointer in
            header.msg_iov = vectorPointer
            header.msg_iovlen = 1
            header.msg_control = control
            header.msg_controllen = controlCapacity
            while true {
                let n = recvmsg(fd, &header, Int32(MSG_DONTWAIT))
                if n < 0 && errno == EINTR { continue }
                return n
            }
        }
        guard length >= 0 else { return nil }  // EAGAIN: drained
        let time = ContinuousClock.now
        let text = String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self)
        return NotifyMessage(text: text, time: time, senderPID: senderPID(control: control, length: header.msg_controllen))
    }

    /// Walks the control messages (the CMSG_* macros are not importable) for `SCM_CREDENTIALS`.
    private func senderPID(control: UnsafeMutableRawPointer, length: Int) -> Int32? {
        let word = MemoryLayout<Int>.size
        func aligned(_ n: Int) -> Int { (n + word - 1) & ~(word - 1) }
        let headerSize = MemoryLayout<cmsghdr>.size
        var offset = 0
        while offset + headerSize <= length {
            let entry = control.load(fromByteOffset: offset, as: cmsghdr.self)
            let entryLength = Int(entry.cmsg_len)
            guard entryLength >= headerSize, offset + entryLength <= length else { return nil }
            let data = offset + aligned(headerSize)
            // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
            if entry.cmsg_level == SOL_SOCKET, entry.cmsg_type == Self.scmCredentials,
                entryLength - aligned(headerSize) >= 3 * MemoryLayout<Int32>.size
            {
                return control.load(fromByteOffset: data, as: Int32.self)
            }
            offset += aligned(entryLength)
        }
        return nil
    }
}
