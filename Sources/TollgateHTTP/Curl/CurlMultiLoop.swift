import CCurl
import CCurlShim
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One curl multi handle driven by one dedicated thread.
///
/// Callers hand transfers over through a mutex-guarded inbox and wake the thread with
/// `curl_multi_wakeup`; the thread adds and removes easy handles, runs `curl_multi_perform`,
/// completes finished transfers and sleeps in `curl_multi_poll`. Everything that touches the
/// multi handle or a submitted easy handle happens on that thread, so libcurl never sees two
/// threads at once, and the multi handle's connection cache keeps keep-alive connections for
/// every transfer to the same host.
final class CurlMultiLoop: @unchecked Sendable {
    private struct Inbox {
        var adds: [CurlTransfer] = []
        var cancels: [CurlTransfer] = []
        var stopping = false
        /// The multi handle is gone: `curl_multi_wakeup` must not be called any more.
        var closed = false
        var joined = false
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    private let counters = Mutex(HTTPClient.Stats())
    private let thread = Mutex<pthread_t?>(nil)
    /// Transfers currently added to the multi handle, by easy handle. Loop thread only.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private let threadName: String

    init(name: String, maxConnections: Int) {
        CurlGlobal.ensureInitialized()
        guard let handle = curl_multi_init() else { fatalError("curl_multi_init failed") }
        multi = handle
        threadName = String("curl-\(name)".prefix(15))
        let limit = max(1, maxConnections)
        _ = tollgate_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, limit)
        _ = tollgate_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, limit)

        // The thread owns one reference until it exits, so the loop outlives its thread.
        let box = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let rc = pthread_create(
            &tid, nil,
            { raw in
                let loop = Unmanaged<CurlMultiLoop>.fromOpaque(raw!).takeRetainedValue()
                loop.run()
                return nil
            }, box.toOpaque())
        precondition(rc == 0, "pthread_create failed: \(rc)")
        thread.withLock { $0 = tid }
    }

    /// Counters so far.
    var stats: HTTPClient.Stats { counters.withLock { $0 } }

    /// Queues `transfer` for the loop; `false` once shutdown has begun.
    func submit(_ transfer: CurlTransfer) -> Bool {
        inbox.withLock { box in
            guard !box.stopping else { return false }
            box.adds.append(transfer)
            counters.withLock { $0.requests += 1 }
            _ = curl_multi_wakeup(multi)  // under the lock: the handle cannot be closed meanwhile
            return true
        }
    }

    /// Asks the loop to remove a cancelled transfer from the multi handle.
    func cancel(_ transfer: CurlTransfer) {
        inbox.withLock { box in
            guard !box.closed else { return }
            box.cancels.append(transfer)
            _ = curl_multi_wakeup(multi)
        }
    }

    /// Fails every queued and running transfer with `shutdown`, closes the connections and
    /// joins the thread. Idempotent; must not be called from the loop thread.
    func shutdown() {
        let tid = inbox.withLock { box -> pthread_t? in
            if !box.stopping {
                box.stopping = true
                if !box.closed { _ = curl_multi_wakeup(multi) }
            }
            guard !box.joined else { return nil }
            box.joined = true
            return thread.withLock { $0 }
        }
        if let tid, pthread_equal(tid, pthread_self()) == 0 {
            pthread_join(tid, nil)
        }
    }

    // MARK: The loop thread

    private func run() {
        tollgate_set_current_thread_name(threadName)
        var running: Int32 = 0
        while true {
            let (adds, cancels, stopping) = inbox.withLock { box in
                defer {
                    box.adds.removeAll()
                    box.cancels.removeAll()
                }
                return (box.adds, box.cancels, box.stopping)
            }
            for transfer in cancels { remove(transfer, result: nil) }
            for transfer in adds { add(transfer) }
            if stopping { break }
            _ = curl_multi_perform(multi, &running)
            completeFinished()
            if curl_multi_poll(multi, nil, 0, 1000, nil) != CURLM_OK {
                usleep(10_000)  // never spin if the multi handle is in trouble
            }
        }
        for transfer in Array(active.values) {
            remove(transfer, result: .failure(transfer.error(.shutdown, detail: "client shut down")))
        }
        let late = inbox.withLock { box in
            box.closed = true
            defer { box.adds.removeAll() }
            return box.adds
        }
        for transfer in late { transfer.complete(.failure(transfer.error(.shutdown))) }
        curl_multi_cleanup(multi)  // closes the cached connections
    }

    private func add(_ transfer: CurlTransfer) {
        guard !transfer.isCancelled else { return }
        if let notAfter = transfer.notAfter, ContinuousClock.now > notAfter {
            transfer.complete(.failure(transfer.error(.expired, detail: "the request's time to leave had passed; not sent")))
            return
        }
        let code = curl_multi_add_handle(multi, transfer.easy)
        guard code == CURLM_OK else {
            transfer.complete(
                .failure(transfer.error(.transport, detail: "curl_multi_add_handle: \(code.rawValue)")))
            return
        }
        active[transfer.easy] = transfer
    }

    /// Takes `transfer` out of the multi handle (a no-op if it is not in it) and, with a
    /// `result`, resumes its caller.
    private func remove(_ transfer: CurlTransfer, result: Result<HTTPResponse, HTTPClientError>?) {
        guard active.removeValue(forKey: transfer.easy) != nil else { return }
        _ = curl_multi_remove_handle(multi, transfer.easy)
        let opened = transfer.connectionsOpened
        counters.withLock { $0.connectionsOpened += opened }
        if let result { transfer.complete(result) }
    }

    private func completeFinished() {
        var easy: UnsafeMutableRawPointer?
        var code = CURLE_OK
        while tollgate_multi_next_done(multi, &easy, &code) == 1 {
            guard let done = easy, let transfer = active[done] else { continue }
            let result = transfer.result(for: code)
            if case .failure = result { counters.withLock { $0.failures += 1 } }
            remove(transfer, result: result)
        }
    }
}
