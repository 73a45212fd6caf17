#if canImport(Glibc)
    import Glibc
#endif

/// A one-connection HTTP server that answers with exact bytes, for responses `HTTPServer`
/// never produces (chunked bodies without a length). Accepts without blocking a thread.
final class ScriptedServer {
    let port: Int
    private let listener: Int32

    init() {
        (listener, port) = TestListener.bound()
        _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        close(listener)
    }

    /// Accepts one connection, reads the request head, writes `response`, and closes.
    func serveOnce(_ response: String, timeout: Duration = .seconds(5)) async {
        let deadline = ContinuousClock.now + timeout
        var fd: Int32 = -1
        while fd < 0, ContinuousClock.now < deadline {
            fd = accept(listener, nil, nil)
            if fd < 0 { try? await Task.sleep(for: .milliseconds(5)) }
        }
        guard fd >= 0 else { return }
        let connection = RawSocket(fd: fd)
        _ = await connection.read(until: "\r\n\r\n", timeout: deadline - .now)
        connection.send(response)
    }
}
