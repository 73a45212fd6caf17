/// What the NocoDB simulator saw, for tests and benchmarks (`GET /_sim/stats`).
public struct NocoDBSimulatorStats: Sendable, Codable, Equatable {
    /// API requests that arrived (control requests excluded), whatever the answer.
    public var requests = 0
    /// Answered 2xx.
    public var ok = 0
    /// Answered 429 (over the limit, during a block, or forced).
    public var throttled = 0
    /// 429s answered because the token was already blocked: requests the client should not have sent.
    public var throttledDuringBlock = 0
    /// Answered 5xx (injected).
    public var serverErrors = 0
    /// Answered 4xx other than 429.
    public var clientErrors = 0
    /// Replies held back by an injected delay.
    public var delayed = 0
    /// Most requests of one token in one fixed window (calendar second).
    public var maxPerFixedWindow = 0
    /// Most requests of one token in any sliding window of the same length (half-open).
    public var maxPerSlidingWindow = 0
    /// Requests per fixed window → how many windows had that many (`"5": 120`).
    public var windowHistogram: [String: Int] = [:]
    /// Unix ms of the first and last API request.
    public var firstRequestMs: Int64?
    public var lastRequestMs: Int64?
    /// Requests by operation (`GET list`, `GET count`, `GET one`, `POST`, `PATCH`, `DELETE`).
    public var byOperation: [String: Int] = [:]
    /// Requests (all tokens) per fixed window, from the first request's window to the last's,
    /// quiet windows included as 0: the time series behind the benchmark plots.
    public var timeline: [Int] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case requests, ok, throttled, delayed
        case throttledDuringBlock = "throttled_during_block"
        case serverErrors = "server_errors"
        case clientErrors = "client_errors"
        case maxPerFixedWindow = "max_per_fixed_window"
        case maxPerSlidingWindow = "max_per_sliding_window"
        case windowHistogram = "window_histogram"
        case firstRequestMs = "first_request_ms"
        case lastRequestMs = "last_request_ms"
        case byOperation = "by_operation"
        case timeline
    }
}

/// The raw record behind ``NocoDBSimulatorStats``.
struct SimNocoDBRecorder: Sendable {
    var stats = NocoDBSimulatorStats()
    /// Arrival times (Unix ms) per token.
    var arrivals: [String: [Int64]] = [:]
    var perWindow: [String: [Int64: Int]] = [:]

    mutating func arrived(token: String, nowMs: Int64, windowMs: Int64, operation: String) {
        stats.requests += 1
        stats.firstRequestMs = stats.firstRequestMs ?? nowMs
        stats.lastRequestMs = nowMs
        stats.byOperation[operation, default: 0] += 1
        arrivals[token, default: []].append(nowMs)
        perWindow[token, default: [:]][nowMs / windowMs, default: 0] += 1
    }

    mutating func answered(_ status: Int, duringBlock: Bool = false) {
        switch status {
        case 200..<300: stats.ok += 1
        case 429:
            stats.throttled += 1
            if duringBlock { stats.throttledDuringBlock += 1 }
        case 500...: stats.serverErrors += 1
        default: stats.clientErrors += 1
        }
    }

    /// The stats with the window figures computed.
    func snapshot(windowMs: Int64) -> NocoDBSimulatorStats {
        var s = stats
        var histogram: [Int: Int] = [:]
        var maxFixed = 0
        for windows in perWindow.values {
            for count in windows.values {
                histogram[count, default: 0] += 1
                maxFixed = max(maxFixed, count)
            }
        }
        s.maxPerFixedWindow = maxFixed
        s.windowHistogram = Dictionary(uniqueKeysWithValues: histogram.map { (String($0.key), $0.value) })
        var maxSliding = 0
        for times in arrivals.values {
            var start = 0
            for end in times.indices {
                while times[end] - times[start] >= windowMs { start += 1 }
                maxSliding = max(maxSliding, end - start + 1)
            }
        }
        s.maxPerSlidingWindow = maxSliding
        var total: [Int64: Int] = [:]
        for windows in perWindow.values {
            for (index, count) in windows { total[index, default: 0] += count }
        }
        if let first = total.keys.min(), let last = total.keys.max() {
            s.timeline = (first...last).map { total[$0] ?? 0 }
        }
        return s
    }
}
