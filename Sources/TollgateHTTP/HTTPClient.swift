import TollgateCore
import Logging

/// An HTTP/1.1 (and HTTP/2 over TLS) client on libcurl.
///
/// One curl multi handle, driven by one dedicated thread, runs every request of the client
/// concurrently: a 30 s long poll does not hold up message sends, and keep-alive connections to
/// the same host are reused across requests (see ``Stats/connectionsOpened``). No blocking call
/// ever runs on Swift's cooperative pool.
///
/// ```swift
/// let client = HTTPClient(name: "telegram", logger: logger)
/// let response = try await client.execute(.get("\(api)/getMe"))
/// ```
///
/// Behaviour: redirects are not followed; `Expect: 100-continue` is never sent; every status
/// code is a response (only transport failures throw); cancelling the calling task removes the
/// transfer and throws ``HTTPClientError/Code/cancelled`` at once.
public final class HTTPClient: Sendable {
    /// Counters for tests and metrics.
    public struct Stats: Sendable, Equatable {
        /// Requests handed to libcurl (including ones that later failed or were cancelled).
        public var requests = 0
        /// New connections libcurl opened (sum of `CURLINFO_NUM_CONNECTS`); reused keep-alive
        /// connections do not count.
        public var connectionsOpened = 0
        /// Requests that ended in a transport error (not counting cancellations, shutdown, or
        /// HTTP error statuses, which are responses).
        public var failures = 0

        public init() {}
    }

    /// The name used in logs and for the loop thread (`curl-<name>`).
    public let name: String
    private let loop: CurlMultiLoop
    private let logger: Logger

    /// Creates a client and starts its loop thread.
    ///
    /// - Parameters:
    ///   - maxConnections: The most connections open at once (and kept in the cache); further
    ///     requests wait in libcurl's queue for a free one.
    public init(name: String, maxConnections: Int = 16, logger: Logger) {
        self.name = name
        self.logger = logger
        self.loop = CurlMultiLoop(name: name, maxConnections: maxConnections)
    }

    deinit {
        loop.shutdown()
    }

    /// Counters so far.
    public var stats: Stats { loop.stats }

    /// Sends `request` and returns the complete response.
    ///
    /// - Throws: ``HTTPClientError`` and nothing else; `cancelled` when the calling task is
    ///   cancelled, `shutdown` after ``shutdown()``.
    public func execute(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let transfer: CurlTransfer
        do {
            transfer = try CurlTransfer(request)
        } catch {
            log(request.method, request.redactedURL, .failure(error))
            throw error
        }
        let loop = self.loop
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CurlTransfer.Continuation) in
                guard transfer.install(continuation) else { return }
                if !loop.submit(transfer) {
                    transfer.complete(.failure(transfer.error(.shutdown, detail: "client shut down")))
                }
            }
        } onCancel: {
            if transfer.cancel() { loop.cancel(transfer) }
        }
        log(transfer.method, transfer.redactedURL, result)
        return try result.get()
    }

    /// Fails every queued and in-flight request with ``HTTPClientError/Code/shutdown``, closes
    /// the cached connections and stops the loop thread. Later requests fail with `shutdown`.
    /// Idempotent; blocks the caller only while the loop thread winds down.
    public func shutdown() {
        loop.shutdown()
    }

    private func log(_ method: String, _ redactedURL: String, _ result: Result<HTTPResponse, HTTPClientError>) {
        switch result {
        case .success(let response):
            logger.debug(
                "http request",
                metadata: [
                    "client": "\(name)", "method": "\(method)", "url": "\(redactedURL)",
                    "status": "\(response.status)", "elapsed_ms": "\(response.elapsed.milliseconds)",
                ])
        case .failure(let error):
            logger.debug(
                "http request failed",
                metadata: [
                    "client": "\(name)", "method": "\(method)", "url": "\(redactedURL)",
                    "error": "\(error.code.rawValue)", "detail": "\(error.detail)",
                ])
        }
    }
}
