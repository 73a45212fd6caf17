import Logging
import TollgateCoordination
import TollgateCore
import TollgateHTTP

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension NocoDBClient {
    /// Whether a request may be sent again after a failure that leaves open whether it was applied.
    enum Repeatability {
        /// Reads, updates by id, deletes by id: repeating changes nothing.
        case idempotent
        /// Creates: repeated only after failures that prove nothing was applied (no connection, 429, 503).
        case once
    }

    /// Sends one API request through the limiter, with the retry rules of the type's documentation.
    /// Runs on ``sendPath``: from the limiter's grant to the request leaving, no hop through the
    /// cooperative pool.
    func send(
        _ method: String, table: String, suffix: String = "", query: [(String, String)] = [], json body: [UInt8]? = nil,
        _ repeatability: Repeatability
    ) async throws(NocoDBError) -> HTTPResponse {
        try await withTaskExecutorPreference(Self.sendPath) { () async throws(NocoDBError) -> HTTPResponse in
            try await sendOnPath(method, table: table, suffix: suffix, query: query, json: body, repeatability)
        }
    }

    private func sendOnPath(
        _ method: String, table: String, suffix: String, query: [(String, String)], json body: [UInt8]?,
        _ repeatability: Repeatability
    ) async throws(NocoDBError) -> HTTPResponse {
        guard Self.isValidTableID(table) else {
            throw NocoDBError(.invalidRequest, "table id must be letters, digits, '_' or '-'")
        }
        var url = baseURL + "/api/v2/tables/" + table + "/records" + suffix
        if !query.isEmpty { url += "?" + NocoDBQuery.encode(query) }
        var headers = [("xc-token", token.exposedValue), ("Accept", "application/json")]
        var requestBody = HTTPRequest.Body.none
        if let body {
            requestBody = .bytes(body, contentType: "application/json")
            headers.append(("Content-Type", "application/json"))
        }
        let request = HTTPRequest(method: method, url: url, headers: headers, body: requestBody, timeout: options.timeout)
        var backoff = Backoff(base: options.backoffBase, cap: options.backoffCap, jitter: .equal)
        var failures = 0
        var throttledAnswers = 0
        var staleSlots = 0
        let operation = "\(method) \(suffix.isEmpty ? "records" : "records" + suffix.prefix(while: { $0 != "?" }))"

        while true {
            let grant: RateLimitGrant
            do {
                grant = try await limiter.acquire(resource)
                countersState.withLock { $0.limiterWaitMs += grant.waited.microseconds / 1000 }
            } catch is CancellationError {
                throw NocoDBError(.cancelled, "cancelled while waiting for the rate limiter")
            } catch {
                failures += 1
                logger.warning(
                    "nocodb rate limiter unavailable", metadata: ["table": "\(table)", "error": "\(error)"])
                guard failures < options.maxAttempts else {
                    throw NocoDBError(.limiterUnavailable, "the shared rate limiter cannot be reached: \(error)")
                }
                try await pause(backoff.next())
                continue
            }

            if let afterGrant = options.afterGrant { await afterGrant() }
            let response: HTTPResponse
            var timed = request
            // The slot is good only until arrival jitter could break the window's limit: a request
            // held up past that by a busy machine gives it up and takes a new one, rather than go
            // out bunched with the next (what NocoDB counts is arrivals, not grants).
            let tolerance = resource.policy.jitterTolerance
            if tolerance > .zero { timed.notAfter = grant.arrivedAt + tolerance * 0.8 }
            do {
                response = try await http.execute(timed)
            } catch {
                if error.code == .cancelled { throw NocoDBError(.cancelled, "cancelled during the request") }
                if error.code == .expired {
                    staleSlots += 1
                    countersState.withLock { $0.staleSlots += 1 }
                    guard staleSlots < 50 else {
                        throw NocoDBError(.transport, "the machine is too busy to send within a rate-limit slot")
                    }
                    continue
                }
                let counters = countersState.withLock { c -> NocoDBCounters in
                    c.total += 1
                    c.failed += 1
                    c.transportErrors += 1
                    return c
                }
                logRequest(method, table, operation, status: nil, error: error.code.rawValue, elapsed: nil, counters)
                let provenUnsent = error.code == .connectFailed || error.code == .connectTimeout
                guard error.isRetryable else {
                    throw NocoDBError(.transport, "\(error.code.rawValue): \(error.detail)")
                }
                if repeatability == .once && !provenUnsent {
                    throw NocoDBError(.ambiguous, "\(method) may have been applied: \(error.code.rawValue)")
                }
                failures += 1
                guard failures < options.maxAttempts else {
                    throw NocoDBError(.transport, "no response after \(failures) attempts: \(error.code.rawValue)")
                }
                countersState.withLock { $0.retries += 1 }
                try await pause(backoff.next())
                continue
            }

            // An answer, whatever it says, is progress for the loop that waits on this client.
            await SlicedSleep.reportProgress()
            let status = response.status
            var block = Duration.zero
            if status == 429 {
                // The block is shared before the answer is counted or logged: whoever sees this 429
                // in the counters can rely on every process already holding back.
                let cap = PeerWait(name: "NOCODB_MAX_RETRY_AFTER", max: max(options.maxRetryAfter, options.throttleBlock))
                let bounded = cap.bound(max(response.retryAfter ?? .zero, options.throttleBlock))
                block = bounded.wait
                if bounded.wasClamped, let held = faultLog.admit("retry-after") {
                    logger.warning(
                        "NocoDB asked for a longer wait than allowed; waiting the maximum",
                        metadata: [
                            "retry_after": "\(Self.shown(response.header("retry-after") ?? ""))",
                            "waiting_s": "\(block.milliseconds / 1000)", "setting": "\(cap.name)",
                            "suppressed": "\(held)",
                        ])
                }
                do {
                    try await limiter.pushBack(resource, by: block)
                } catch {
                    // The block could not be shared; at least this caller keeps it.
                    try await pause(block)
                }
            }
            let counters = countersState.withLock { c -> NocoDBCounters in
                c.total += 1
                if (200..<300).contains(status) { c.ok += 1 } else { c.failed += 1 }
                if status == 429 { c.throttled += 1 }
                if status >= 500 { c.serverErrors += 1 }
                return c
            }
            logRequest(method, table, operation, status: status, error: nil, elapsed: response.elapsed, counters)

            switch status {
            case 200..<300:
                return response
            case 429:
                throttledAnswers += 1
                guard throttledAnswers < options.maxThrottledAttempts else {
                    throw NocoDBError(.throttled, "still throttled after \(throttledAnswers) answers 429", status: 429)
                }
                countersState.withLock { $0.retries += 1 }
            case 500...599:
                if repeatability == .once && status != 503 {
                    throw Self.error(from: response, code: .ambiguous)
                }
                failures += 1
                guard failures < options.maxAttempts else { throw Self.error(from: response, code: .serverError) }
                countersState.withLock { $0.retries += 1 }
                try await pause(backoff.next())
            case 401, 403:
                throw Self.error(from: response, code: .unauthorized)
            case 404:
                throw Self.error(from: response, code: .notFound)
            default:
                throw Self.error(from: response, code: .invalidRequest)
            }
        }
    }

    private func pause(_ duration: Duration) async throws(NocoDBError) {
        do {
            try await SlicedSleep.sleep(for: duration)
        } catch {
            throw NocoDBError(.cancelled, "cancelled during backoff")
        }
    }

    /// A header value from the peer, cut short and printable, for a log line.
    static func shown(_ value: String) -> String {
        let printable = String(value.unicodeScalars.prefix(80).map { $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
        return value.unicodeScalars.count > 80 ? printable + "..." : printable
    }

    private func logRequest(
        _ method: String, _ table: String, _ operation: String, status: Int?, error: String?, elapsed: Duration?,
        _ c: NocoDBCounters
    ) {
        var metadata: Logger.Metadata = [
            "method": "\(method)", "table": "\(table)", "op": "\(operation)",
            "total": "\(c.total)", "ok": "\(c.ok)", "failed": "\(c.failed)", "429": "\(c.throttled)",
        ]
        if let status { metadata["status"] = "\(status)" }
        if let error { metadata["error"] = "\(error)" }
        if let elapsed { metadata["duration_ms"] = "\(elapsed.microseconds / 1000)" }
        logger.log(level: options.requestLogLevel, "nocodb request", metadata: metadata)
    }

    /// An error from a non-2xx answer, reading either body shape NocoDB uses:
    /// `{"msg": "..."}` or `{"error": "ERR_...", "message": "..."}`.
    public static func error(from response: HTTPResponse, code: NocoDBError.Code) -> NocoDBError {
        var message = ""
        var remote: String?
        if let body = try? JSONDecoder().decode([String: NocoDBValue].self, from: Data(response.body)) {
            if case .string(let e)? = body["error"] { remote = e }
            if case .string(let m)? = body["message"] {
                message = m
            } else if case .string(let m)? = body["msg"] {
                message = m
            } else if let remote {
                message = remote
            }
        } else {
            message = String(response.text.prefix(200))
        }
        if message.isEmpty { message = "HTTP \(response.status)" }
        return NocoDBError(code, message, status: response.status, remoteCode: remote)
    }

    /// Decodes a JSON reply body.
    public static func decode<T: Decodable>(_ type: T.Type, _ response: HTTPResponse) throws(NocoDBError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(response.body))
        } catch {
            throw NocoDBError(.invalidResponse, "unexpected reply body: \(response.text.prefix(120))", status: response.status)
        }
    }

    static func encode<T: Encodable>(_ value: T) throws(NocoDBError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(value))
        } catch {
            throw NocoDBError(.invalidRequest, "cannot encode the request body")
        }
    }
}
