import Synchronization
import TollgateHTTPServer

/// A simulator that misbehaves on request — the peers' bad days, for tests that prove no reply can
/// crash or wedge a service. A fraction of the API requests (optionally only some routes) get a
/// fault, drawn from a seeded generator so that a run can be repeated.
///
/// Faults that *apply* the request first and then spoil the reply (`truncated`, `wrong_types`)
/// model a peer that did the work but answered garbage; the others refuse without doing anything.
public struct SimHostility: Sendable, Equatable, Codable {
    public enum Fault: String, Sendable, Codable, CaseIterable {
        /// 200 with a JSON text that ends in the middle (`{"ok":tru`).
        case malformedJSON = "malformed_json"
        /// The real reply (the request was applied), cut in half.
        case truncated
        /// The real reply (applied) with types changed: `"ok":"yes"`, ids as strings, floats for ints.
        case wrongTypes = "wrong_types"
        /// 200 with an error body (a proxy or a confused server).
        case errorBody200 = "error_body_200"
        /// 502 with an HTML page.
        case html
        /// 200 with a 40 MiB body (over both clients' reply caps).
        case hugeBody = "huge_body"
        /// A valid-looking reply trickled out a few bytes at a time (slower than any client waits).
        case slowBody = "slow_body"
        /// 503 with absurd headers: `Retry-After` of 10^20 seconds, a year-9999 date, 8 KiB of junk.
        case absurdHeaders = "absurd_headers"
        /// 429 with a `Retry-After` anywhere from 0 to 10^20 seconds (and `retry_after` in the body).
        case throttleStorm = "throttle_storm"
        /// 500, 502, 503 or 504 with the peer's own error envelope (`{"ok":false,"error_code":502,...}`):
        /// an answer, so the request is known not to have taken effect.
        case serverError = "server_error"
        /// The request is carried out and the connection closed without an answer: the client
        /// cannot know that it took effect (a send that reached the user while its reply was lost).
        /// Never drawn unless named: it makes the peer do work the client may repeat.
        case lostReply = "lost_reply"

        /// Whether the request is carried out before the reply is spoiled.
        public var applies: Bool { self == .truncated || self == .wrongTypes || self == .lostReply }

        /// The faults drawn when none are named: every one that leaves a request either undone or
        /// visibly answered (all but ``lostReply``).
        public static let byDefault = allCases.filter { $0 != .lostReply }
    }

    /// The fraction of API requests that get a fault (0 heals the peer).
    public var rate: Double
    public var faults: [Fault]
    /// Routes to spoil (Telegram method names, NocoDB operations such as `GET list`); nil: all.
    public var routes: [String]?
    public var seed: UInt64

    public init(rate: Double, faults: [Fault] = Fault.byDefault, routes: [String]? = nil, seed: UInt64 = 1) {
        self.rate = min(max(rate.isFinite ? rate : 0, 0), 1)
        self.faults = faults.isEmpty ? Fault.byDefault : faults
        self.routes = routes
        self.seed = seed
    }

    /// No fault.
    public static let none = SimHostility(rate: 0)
}

/// The live state: the settings, the generator and what was injected, by fault.
final class SimHostile: Sendable {
    private struct State {
        var settings = SimHostility.none
        var rng = SimSplitMix(seed: 1)
        var injected: [String: Int] = [:]
    }
    private let state = Mutex(State())

    func configure(_ settings: SimHostility) {
        state.withLock {
            $0.settings = settings
            $0.rng = SimSplitMix(seed: settings.seed)
        }
    }

    var settings: SimHostility { state.withLock { $0.settings } }
    /// How many replies were spoiled, by fault.
    var injected: [String: Int] { state.withLock { $0.injected } }

    /// The fault for a request to `route`, if it gets one; and a number for the fault's details.
    func draw(route: String) -> (fault: SimHostility.Fault, detail: UInt64)? {
        state.withLock { s in
            guard s.settings.rate > 0 else { return nil }
            if let routes = s.settings.routes, !routes.contains(where: { $0.caseInsensitiveCompare(route) == .orderedSame }) {
                return nil
            }
            guard s.rng.unit() < s.settings.rate else { return nil }
            let fault = s.settings.faults[Int(s.rng.next() % UInt64(s.settings.faults.count))]
            s.injected[fault.rawValue, default: 0] += 1
            return (fault, s.rng.next())
        }
    }

    /// The spoiled reply for `fault` (`real`: the reply the request got, for the faults that apply it).
    static func reply(_ fault: SimHostility.Fault, detail: UInt64, real: HTTPServerResponse?, errorBody: String)
        -> HTTPServerResponse
    {
        let json = [("Content-Type", "application/json")]
        switch fault {
        case .malformedJSON:
            let texts = [#"{"ok":tru"#, #"{"list":[{"Id":1,"#, "{", #"{"ok":true,"result":{"message_id":"#, "[1,2"]
            return HTTPServerResponse(status: 200, headers: json, body: Array(texts[Int(detail % UInt64(texts.count))].utf8))
        case .truncated:
            let body = real?.body ?? Array(errorBody.utf8)
            return HTTPServerResponse(status: real?.status ?? 200, headers: json, body: Array(body.prefix(body.count / 2)))
        case .wrongTypes:
            let text = String(decoding: real?.body ?? Array(errorBody.utf8), as: UTF8.self)
            return HTTPServerResponse(status: real?.status ?? 200, headers: json, body: Array(Self.mangle(text, detail).utf8))
        case .errorBody200:
            return HTTPServerResponse(status: 200, headers: json, body: Array(errorBody.utf8))
        case .html:
            return HTTPServerResponse(
                status: 502, headers: [("Content-Type", "text/html")],
                body: Array("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>".utf8))
        case .hugeBody:
            var body = Array(#"{"ok":true,"result":""#.utf8)
            body += [UInt8](repeating: 0x61, count: 40 << 20)
            body += Array(#""}"#.utf8)
            return HTTPServerResponse(status: 200, headers: json, body: body)
        case .slowBody:
            var response = real ?? HTTPServerResponse(status: 200, headers: json, body: Array(errorBody.utf8))
            response.trickle = .milliseconds(500)
            return response
        case .absurdHeaders:
            let values = ["100000000000000000000", "Fri, 31 Dec 9999 23:59:59 GMT", "-5", "soon", "1e9"]
            return HTTPServerResponse(
                status: 503,
                headers: json + [
                    ("Retry-After", values[Int(detail % UInt64(values.count))]),
                    ("X-Junk", String(repeating: "x", count: 8192)),
                ],
                body: Array(errorBody.utf8))
        case .throttleStorm:
            let seconds = ["0", "1", "30", "3600", "86400000", "100000000000000000000"][Int(detail % 6)]
            let body = #"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after \#(seconds)","parameters":{"retry_after":\#(seconds)}}"#
            return HTTPServerResponse(status: 429, headers: json + [("Retry-After", seconds)], body: Array(body.utf8))
        case .serverError:
            let status = [500, 502, 503, 504][Int(detail % 4)]
            let body = errorBody.replacingOccurrences(of: "\"error_code\":500", with: "\"error_code\":\(status)")
            return HTTPServerResponse(status: status, headers: json, body: Array(body.utf8))
        case .lostReply:
            return .dropped
        }
    }

    /// Changes the type of one kind of member in a JSON text.
    static func mangle(_ text: String, _ detail: UInt64) -> String {
        let swaps: [(String, String)] = [
            (#""ok":true"#, #""ok":"yes""#), (#""update_id":"#, #""update_id":"x"#), (#""message_id":"#, #""message_id":0.5+"#),
            (#""Id":"#, #""Id":-0.25e"#), (#""isLastPage":true"#, #""isLastPage":"no""#), (#""Paid":true"#, #""Paid":"yes""#),
            (#""chat":{"#, #""chat":[{"#), (#""list":["#, #""list":{"#),
        ]
        var out = text
        for i in 0..<3 {
            let (from, to) = swaps[Int((detail >> (8 * UInt64(i))) % UInt64(swaps.count))]
            out = out.replacingOccurrences(of: from, with: to)
        }
        // Nothing of those in this reply: turn its integers into fractions.
        if out == text { out = out.replacingOccurrences(of: ":1", with: ":1.5") }
        return out
    }
}

/// A small seeded generator (SplitMix64): repeatable faults.
struct SimSplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension SimHostility {
    /// The control API's body: `{"rate": 0.3, "faults": ["html", ...], "routes": ["sendMessage"], "seed": 7}`.
    /// A refusal of the control API's body.
    struct Problem: Error { var text: String }

    static func read(_ body: [UInt8]) -> Result<SimHostility, Problem> {
        struct Body: Decodable {
            var rate: Double
            var faults: [String]?
            var routes: [String]?
            var seed: UInt64?
        }
        guard let b = try? JSONDecoder().decode(Body.self, from: Data(body)) else {
            return .failure(Problem(text: "expected {\"rate\": 0...1, \"faults\"?: [...], \"routes\"?: [...], \"seed\"?: n}"))
        }
        var faults: [Fault] = []
        for name in b.faults ?? [] {
            guard let fault = Fault(rawValue: name) else {
                return .failure(Problem(text: "unknown fault '\(name)' (one of \(Fault.allCases.map(\.rawValue).joined(separator: ", ")))"))
            }
            faults.append(fault)
        }
        guard b.rate.isFinite, (0...1).contains(b.rate) else { return .failure(Problem(text: "rate must be from 0 to 1")) }
        return .success(SimHostility(rate: b.rate, faults: faults, routes: b.routes, seed: b.seed ?? 1))
    }

    static func report(_ hostile: SimHostile) -> HTTPServerResponse {
        struct Report: Encodable {
            var settings: SimHostility
            var injected: [String: Int]
        }
        return .json(Report(settings: hostile.settings, injected: hostile.injected))
    }
}

extension NocoDBSimulator {
    /// Makes the simulator misbehave on a fraction of API requests (``SimHostility/none`` heals it).
    public func setHostility(_ settings: SimHostility) { hostile.configure(settings) }

    /// How many replies were spoiled so far, by fault.
    public var hostileInjected: [String: Int] { hostile.injected }
}
