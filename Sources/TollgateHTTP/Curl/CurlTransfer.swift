import CCurl
import CCurlShim
import Synchronization
import TollgateCore

/// One request on its way through the multi handle: owns the easy handle, the header list and
/// the MIME body (all freed in `deinit`), collects the response, and resumes the waiting task
/// exactly once — on completion, cancellation or shutdown, whichever comes first.
///
/// Threading: created and configured by the caller, then touched only by the multi loop thread
/// (callbacks, `finish`) except for `state`, which is guarded by its mutex.
final class CurlTransfer: @unchecked Sendable {
    typealias Continuation = CheckedContinuation<Result<HTTPResponse, HTTPClientError>, Never>

    private enum State {
        case created
        case waiting(Continuation)
        case cancelled
        case finished
    }

    let easy: UnsafeMutableRawPointer
    let method: String
    let redactedURL: String
    let maxResponseBytes: Int
    let connectTimeout: Duration
    let timeout: Duration
    let notAfter: ContinuousClock.Instant?
    let submitted = ContinuousClock.now
    private let state = Mutex<State>(.created)
    /// Set once by `configure` (CurlTransfer+Configure.swift), freed in `deinit`.
    var headerList: UnsafeMutablePointer<curl_slist>?
    var mime: OpaquePointer?
    let errorBuffer: UnsafeMutablePointer<CChar>

    // Written by libcurl callbacks on the loop thread.
    private(set) var body: [UInt8] = []
    private(set) var headers: [(String, String)] = []
    private(set) var exceededMaxBytes = false

    /// Builds the easy handle for `request`.
    ///
    /// - Throws: `transport` (43) for a method or header that would corrupt the request, (27) when
    ///   libcurl is out of memory.
    init(_ request: HTTPRequest) throws(HTTPClientError) {
        CurlGlobal.ensureInitialized()
        method = request.method
        redactedURL = request.redactedURL
        maxResponseBytes = request.maxResponseBytes
        connectTimeout = request.connectTimeout
        timeout = request.timeout
        notAfter = request.notAfter
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        guard let handle = curl_easy_init() else {
            errorBuffer.deallocate()
            throw HTTPClientError(
                code: .transport, curlCode: Int(CURLE_OUT_OF_MEMORY.rawValue), method: request.method,
                redactedURL: request.redactedURL, detail: "curl_easy_init failed")
        }
        easy = handle
        try configure(request)
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        if let mime { curl_mime_free(mime) }
        errorBuffer.deallocate()
    }

    // MARK: Completion (any thread)

    /// Registers the waiting task. Returns `false` (and resumes it with `cancelled`) when the
    /// task was cancelled before it got here; the transfer must then not be submitted.
    func install(_ continuation: Continuation) -> Bool {
        let alreadyCancelled = state.withLock { state -> Bool in
            guard case .created = state else { return true }
            state = .waiting(continuation)
            return false
        }
        if alreadyCancelled { continuation.resume(returning: .failure(error(.cancelled))) }
        return !alreadyCancelled
    }

    /// Resumes the waiting task with `cancelled`. Returns `true` when it was waiting, i.e. when
    /// the loop must now remove the transfer from the multi handle.
    func cancel() -> Bool {
        let waiting = state.withLock { state -> Continuation? in
            switch state {
            case .created:
                state = .cancelled
                return nil
            case .waiting(let continuation):
                state = .cancelled
                return continuation
            case .cancelled, .finished:
                return nil
            }
        }
        waiting?.resume(returning: .failure(error(.cancelled)))
        return waiting != nil
    }

    /// Whether the caller is no longer waiting (cancelled before or after submission).
    var isCancelled: Bool {
        state.withLock { if case .cancelled = $0 { true } else { false } }
    }

    /// Resumes the waiting task with `result`, unless it was resumed already.
    func complete(_ result: Result<HTTPResponse, HTTPClientError>) {
        let waiting = state.withLock { state -> Continuation? in
            guard case .waiting(let continuation) = state else { return nil }
            state = .finished
            return continuation
        }
        waiting?.resume(returning: result)
    }

    // MARK: Results (loop thread)

    /// Turns libcurl's verdict on a finished transfer into a response or an error.
    func result(for code: CURLcode) -> Result<HTTPResponse, HTTPClientError> {
        guard code == CURLE_OK else { return .failure(failure(for: code)) }
        var status = 0
        _ = tollgate_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return .success(
            HTTPResponse(status: status, headers: headers, body: body, elapsed: ContinuousClock.now - submitted))
    }

    /// The number of new connections this transfer opened (0 when it reused a cached one).
    var connectionsOpened: Int {
        var count = 0
        _ = tollgate_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &count)
        return count
    }

    func error(_ code: HTTPClientError.Code, curlCode: Int? = nil, detail: String = "") -> HTTPClientError {
        HTTPClientError(code: code, curlCode: curlCode, method: method, redactedURL: redactedURL, detail: detail)
    }

    private func failure(for code: CURLcode) -> HTTPClientError {
        let number = Int(code.rawValue)
        var message = String(cString: errorBuffer)
        if message.isEmpty { message = String(cString: curl_easy_strerror(code)) }
        let detail = Redactor.shared.redact(message)
        switch code {
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return error(.invalidURL, curlCode: number, detail: detail)
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT:
            return error(.connectFailed, curlCode: number, detail: detail)
        case CURLE_OPERATION_TIMEDOUT:
            return error(connectionEstablished ? .timeout : .connectTimeout, curlCode: number, detail: detail)
        case CURLE_WRITE_ERROR where exceededMaxBytes, CURLE_FILESIZE_EXCEEDED:
            return error(
                .responseTooLarge, curlCode: number, detail: "response body over \(maxResponseBytes) bytes")
        default:
            return error(.transport, curlCode: number, detail: detail)
        }
    }

    /// Whether a connection was up when the transfer ended: libcurl records the local port once
    /// connected (also for a reused connection), and leaves it 0 while still connecting.
    private var connectionEstablished: Bool {
        var port = 0
        _ = tollgate_easy_getinfo_long(easy, CURLINFO_LOCAL_PORT, &port)
        return port != 0
    }

    // MARK: libcurl callbacks (loop thread)

    func receiveBody(_ data: UnsafeRawBufferPointer) -> Int {
        guard body.count + data.count <= maxResponseBytes else {
            exceededMaxBytes = true
            return 0  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
        }
        body.append(contentsOf: data)
        return data.count
    }

    func receiveHeaderLine(_ data: UnsafeRawBufferPointer) -> Int {
        let line = String(decoding: data, as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headers.removeAll()  // a new response starts (after a 1xx): keep only the final one
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingSpacesAndNewlines()
            let value = line[line.index(after: colon)...].trimmingSpacesAndNewlines()
            if !name.isEmpty { headers.append((name, value)) }
        }
        return data.count
    }
}

extension StringProtocol {
    func trimmingSpacesAndNewlines() -> String {
        String(self).trimmingSpaces()
    }
}
