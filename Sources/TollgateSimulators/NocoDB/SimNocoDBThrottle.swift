/// NocoDB Cloud's limiter as a pure state machine: at most `limit` requests per token in each
/// *fixed* window (calendar seconds by default); the request over the limit is answered 429 and
/// the token is then blocked for `blockMs`, every request in the block answered 429 too.
struct SimNocoDBThrottle: Sendable {
    enum Verdict: Sendable, Equatable {
        case allowed
        /// `retryAfter` seconds for the header; `duringBlock` when the token was already blocked.
        case throttled(retryAfter: Int, duringBlock: Bool)
    }

    struct TokenState: Sendable {
        var window: Int64 = -1
        var count = 0
        var blockedUntil: Int64 = 0
    }

    var enabled: Bool
    var limit: Int
    var windowMs: Int64
    var blockMs: Int64
    /// When true, the first 429's Retry-After announces the whole block; when false (the cloud's
    /// habit), only the seconds left in the current window — the client must know about the block.
    var retryAfterCoversBlock: Bool
    var tokens: [String: TokenState] = [:]

    mutating func admit(token: String, nowMs: Int64) -> Verdict {
        guard enabled else { return .allowed }
        var state = tokens[token] ?? TokenState()
        defer { tokens[token] = state }
        if nowMs < state.blockedUntil {
            return .throttled(retryAfter: Self.ceilSeconds(state.blockedUntil - nowMs), duringBlock: true)
        }
        let window = nowMs / windowMs
        if window != state.window {
            state.window = window
            state.count = 0
        }
        state.count += 1
        if state.count <= limit { return .allowed }
        state.blockedUntil = nowMs + blockMs
        let left = retryAfterCoversBlock ? blockMs : (window + 1) * windowMs - nowMs
        return .throttled(retryAfter: Self.ceilSeconds(left), duringBlock: false)
    }

    /// Blocks `token` as if it had just gone over the limit (a forced 429).
    mutating func forceBlock(token: String, nowMs: Int64) -> Verdict {
        var state = tokens[token] ?? TokenState()
        state.blockedUntil = nowMs + blockMs
        tokens[token] = state
        return .throttled(retryAfter: Self.ceilSeconds(retryAfterCoversBlock ? blockMs : 1000), duringBlock: false)
    }

    /// The end of `token`'s block, if it is blocked at `nowMs`.
    func blockedUntil(token: String, nowMs: Int64) -> Int64? {
        guard let until = tokens[token]?.blockedUntil, until > nowMs else { return nil }
        return until
    }

    static func ceilSeconds(_ ms: Int64) -> Int { Int(max(1, (ms + 999) / 1000)) }
}
