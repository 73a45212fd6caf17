import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Accepts connections on a listening socket that other processes accept on too — systemd's one
/// `poller` socket shared by every `poller-scheduler@N` — on a dedicated thread, and hands the
/// connected descriptors over as an async sequence.
///
/// Why not NIO's server channel: when several processes wait on one listening socket, every one
/// of them is woken for each connection and all but one find nothing to accept. NIO's server
/// channel treats a wake-up without a connection as impossible (a debug assertion in
/// `BaseSocketChannel.readable0`), so a debug build crashes as soon as two instances share the
/// socket. Here the losers of that race simply go back to waiting.
///
/// The listening descriptor is made non-blocking (its file status is shared with the other
/// processes, which all accept this way); the loop waits in `poll` together with a wake-up pipe,
/// so ``stop()`` ends it promptly. Accepted descriptors are close-on-exec and blocking; NIO
/// makes them non-blocking when it adopts them.
final class SharedSocketAcceptor: Sendable {
    let connections: AsyncStream<Int32>
    private let continuation: AsyncStream<Int32>.Continuation
    private let listenFD: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let thread = Mutex<pthread_t?>(nil)
    private let stopped = Atomic<Bool>(false)

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(listening fd: Int32) throws {
        listenFD = fd
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            throw Failure(description: "pipe: \(String(cString: strerror(errno)))")
        }
        for p in pipeFDs {
            _ = fcntl(p, F_SETFD, FD_CLOEXEC)
            _ = fcntl(p, F_SETFL, O_NONBLOCK)
        }
        wakeRead = pipeFDs[0]
        wakeWrite = pipeFDs[1]
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
            close(wakeRead)
            close(wakeWrite)
            throw Failure(description: "fd \(fd) is not usable: \(String(cString: strerror(errno)))")
        }
        (connections, continuation) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .unbounded)
    }

    /// Starts the accept thread.
    func start() throws {
        let retained = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let rc = pthread_create(
            &tid, nil,
            { raw in
                let acceptor = Unmanaged<SharedSocketAcceptor>.fromOpaque(raw!).takeRetainedValue()
                acceptor.loop()
                return nil
            }, retained.toOpaque())
        guard rc == 0 else {
            retained.release()
            throw Failure(description: "cannot start the accept thread: \(rc)")
        }
        thread.withLock { $0 = tid }
    }

    private func loop() {
        var fds = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        while !stopped.load(ordering: .acquiring) {
            fds[0].revents = 0
            fds[1].revents = 0
            let n = poll(&fds, 2, -1)
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            if fds[1].revents != 0 { break }
            if fds[0].revents & Int16(POLLNVAL | POLLERR) != 0 { break }
            // Take every connection waiting; another process may have taken them first.
            while !stopped.load(ordering: .acquiring) {
                // (accept4 is not in the Glibc module; the services start no child processes, so
                // setting close-on-exec right after accept races with nothing.)
                let connected = accept(listenFD, nil, nil)
                if connected >= 0 {
                    _ = fcntl(connected, F_SETFD, FD_CLOEXEC)
                    if case .terminated = continuation.yield(connected) { close(connected) }
                    continue
                }
                switch errno {
                case EAGAIN, EWOULDBLOCK, EINTR: break
                // The peer gave up before we accepted, or a transient shortage: keep serving.
                case ECONNABORTED, EPROTO, EPERM, EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    if errno == EMFILE || errno == ENFILE { usleep(50_000) }
                    continue
                default:
                    continuation.finish()
                    return
                }
                break
            }
        }
        continuation.finish()
    }

    /// Ends the accept loop and waits for the thread. Idempotent. The listening descriptor is
    /// left open: it is the caller's (and systemd keeps its own).
    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var one: UInt8 = 1
        _ = write(wakeWrite, &one, 1)
        if let tid = thread.withLock({ current -> pthread_t? in
            defer { current = nil }
            return current
        }) {
            pthread_join(tid, nil)
        }
        continuation.finish()
        close(wakeRead)
        close(wakeWrite)
    }
}
