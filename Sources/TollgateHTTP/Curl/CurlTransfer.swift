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
    let submitted = ContinuousClock.now
    private let state = Mutex<State>(.created)
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var mime: OpaquePointer?
    private let errorBuffer: UnsafeMutablePointer<CChar>

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

    fileprivate func receiveBody(_ data: UnsafeRawBufferPointer) -> Int {
        guard body.count + data.count <= maxResponseBytes else {
            exceededMaxBytes = true
            return 0  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
        }
        body.append(contentsOf: data)
        return data.count
    }

    fileprivate func receiveHeaderLine(_ data: UnsafeRawBufferPointer) -> Int {
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

    // MARK: Configuration

    private func configure(_ request: HTTPRequest) throws(HTTPClientError) {
        try CurlRequestValidator.validate(request, error: { error(.transport, curlCode: 43, detail: $0) })
        let me = Unmanaged.passUnretained(self).toOpaque()
        let options = CurlOptions(easy: easy, onError: { code, what in
            self.error(.transport, curlCode: Int(code.rawValue), detail: "cannot set \(what)")
        })
        try options.set(CURLOPT_URL, request.url, "URL")
        try options.set(CURLOPT_PROTOCOLS_STR, "http,https", "protocols")
        if let path = request.unixSocketPath { try options.set(CURLOPT_UNIX_SOCKET_PATH, path, "unix socket path") }
        try options.set(CURLOPT_NOSIGNAL, 1, "nosignal")
        try options.set(CURLOPT_FOLLOWLOCATION, 0, "followlocation")
        try options.set(CURLOPT_TCP_KEEPALIVE, 1, "tcp keepalive")
        try options.set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.curlMilliseconds, "connect timeout")
        try options.set(CURLOPT_TIMEOUT_MS, request.timeout.curlMilliseconds, "timeout")
        try options.set(CURLOPT_MAXFILESIZE_LARGE, offset: max(0, request.maxResponseBytes), "max file size")
        try options.set(CURLOPT_ERRORBUFFER, pointer: UnsafeRawPointer(errorBuffer), "error buffer")
        try options.set(CURLOPT_PRIVATE, pointer: me, "private")
        try options.set(CURLOPT_WRITEDATA, pointer: me, "write data")
        try options.set(CURLOPT_HEADERDATA, pointer: me, "header data")
        try options.set(CURLOPT_WRITEFUNCTION, callback: curlWriteBody, "write function")
        try options.set(CURLOPT_HEADERFUNCTION, callback: curlWriteHeader, "header function")

        var headerLines = request.headers.map { name, value in
            value.isEmpty ? "\(name);" : "\(name): \(value)"  // "Name;" sends an empty header
        }
        headerLines.append("Expect:")  // no 100-continue round trip before a body
        // The verb libcurl derives from the body options; any other is sent as CUSTOMREQUEST.
        let impliedMethod: String
        switch request.body {
        case .none:
            switch request.method {
            case "HEAD":
                try options.set(CURLOPT_NOBODY, 1, "HEAD")
                impliedMethod = "HEAD"
            case "POST", "PUT", "PATCH":
                try options.setPostBody([])  // Content-Length: 0
                impliedMethod = "POST"
            default:
                try options.set(CURLOPT_HTTPGET, 1, "GET")
                impliedMethod = "GET"
            }
        case .bytes(let bytes, let contentType):
            impliedMethod = "POST"
            try options.setPostBody(bytes)
            if HTTPResponse.firstHeader("content-type", in: request.headers) == nil {
                headerLines.append("Content-Type: \(contentType)")
            }
        case .multipart(let parts):
            impliedMethod = "POST"
            mime = try CurlMime.build(parts, easy: easy, onError: { error(.transport, curlCode: 27, detail: $0) })
            try options.set(CURLOPT_MIMEPOST, pointer: UnsafeRawPointer(mime), "multipart body")
        }
        if request.method != impliedMethod {
            try options.set(CURLOPT_CUSTOMREQUEST, request.method, "method")
        }
        for line in headerLines {
            guard let appended = curl_slist_append(headerList, line) else {
                throw error(.transport, curlCode: 27, detail: "curl_slist_append failed")
            }
            headerList = appended
        }
        try options.set(CURLOPT_HTTPHEADER, pointer: UnsafeRawPointer(headerList), "headers")
    }
}

private let curlWriteBody: tollgate_curl_data_cb = { pointer, size, count, userdata in
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
    return transfer.receiveBody(UnsafeRawBufferPointer(start: pointer, count: size * count))
}

private let curlWriteHeader: tollgate_curl_data_cb = { pointer, size, count, userdata in
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
    return transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: pointer, count: size * count))
}

extension Duration {
    /// Whole milliseconds for a libcurl `_MS` option, at least 1 (0 would mean "no timeout").
    var curlMilliseconds: Int {
        let (seconds, attoseconds) = components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        guard !ms.overflow else { return Int.max }
        return max(1, Int(ms.partialValue + attoseconds / 1_000_000_000_000_000))
    }
}

extension StringProtocol {
    func trimmingSpacesAndNewlines() -> String {
        String(self).trimmingSpaces()
    }
}
