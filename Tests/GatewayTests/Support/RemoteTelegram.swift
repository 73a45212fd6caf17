import Foundation
import TollgateHTTP
import TollgateSimulators
import TollgateTestKit

/// The Telegram simulator in a process of its own (`tollgate sim telegram`), driven over its
/// `/_sim/` control API. Process tests use it: inside the test process, which runs every suite at
/// once on two cores, the simulator's own handlers stall and bunch arrivals, and its flood limits
/// would measure the test process, not the gateway.
final class RemoteTelegram: Sendable {
    let process: ChildProcess
    let base: String
    let http: HTTPClient
    let logPath: String

    /// A sent message as the control API reports it.
    struct Sent: Sendable {
        var chatID: Int64
        var text: String?
        var at: Double
    }

    init(token: String, rate: Double, burst: Int, directory: String) async throws {
        logPath = directory + "/telegram-sim.log"
        process = try ChildProcess(
            try TestBinaries.path(of: "tollgate"),
            ["sim", "telegram", "--port", "0", "--token", token, "--global-rate", String(rate), "--global-burst", String(burst),
             "--log-level", "warning"],
            output: logPath)
        guard let found = await TestNetwork.announced("TELEGRAM_API_URL", in: logPath) else { throw ServiceProcess.Failure("the Telegram simulator did not start") }
        base = found
        http = HTTPClient(name: "remote-sim", logger: quietLogger)
    }

    func stop() async {
        http.shutdown()
        let process = self.process
        _ = await offPool { process.stop(grace: .seconds(5)) }
    }

    @discardableResult
    func post(_ path: String, _ body: String) async throws -> SimJSON {
        let response = try await http.execute(
            HTTPRequest(method: "POST", url: base + path, body: .bytes(Array(body.utf8), contentType: "application/json")))
        guard response.status == 200, let json = SimJSON.parse(response.body) else {
            throw ServiceProcess.Failure("POST \(path) → \(response.status) \(response.text)")
        }
        return json["result"] ?? .null
    }

    func get(_ path: String) async throws -> SimJSON {
        let response = try await http.execute(.get(base + path))
        guard response.status == 200, let json = SimJSON.parse(response.body) else {
            throw ServiceProcess.Failure("GET \(path) → \(response.status)")
        }
        return json["result"] ?? .null
    }

    @discardableResult
    func userSends(_ text: String, from user: SimUser) async throws -> Int64 {
        let body = SimJSON.obj([("user_id", .int(user.id)), ("text", .string(text)), ("first_name", .string(user.firstName))])
        return try await post("/_sim/messages", String(decoding: body.encoded(), as: UTF8.self))["update_id"]?.int64Value ?? 0
    }

    @discardableResult
    func userPresses(_ data: String, from user: SimUser) async throws -> Int64 {
        let body = SimJSON.obj([("user_id", .int(user.id)), ("data", .string(data))])
        return try await post("/_sim/callbacks", String(decoding: body.encoded(), as: UTF8.self))["update_id"]?.int64Value ?? 0
    }

    func addUsers(_ ids: [Int64]) async throws {
        try await post("/_sim/users", String(decoding: SimJSON.obj([("ids", .array(ids.map(SimJSON.int)))]).encoded(), as: UTF8.self))
    }

    func block(_ id: Int64) async throws {
        try await post("/_sim/users/\(id)/block", "{}")
    }

    /// Everything the bot sent, by chat.
    func sentByChat() async throws -> [Int64: [Sent]] {
        var result: [Int64: [Sent]] = [:]
        for item in try await get("/_sim/messages").arrayValue ?? [] {
            guard let chat = item["chat_id"]?.int64Value else { continue }
            var at = 0.0
            if case .double(let d)? = item["at"] { at = d } else if let i = item["at"]?.int64Value { at = Double(i) }
            result[chat, default: []].append(Sent(chatID: chat, text: item["text"]?.stringValue ?? item["caption"]?.stringValue, at: at))
        }
        return result
    }

    func stats() async throws -> SimJSON { try await get("/_sim/stats") }

    func stat(_ name: String) async throws -> Int { Int(try await stats()[name]?.int64Value ?? -1) }

    // MARK: Clubs

    func addClub(_ id: Int64, administrators: [Int64] = []) async throws {
        let body = SimJSON.obj([("id", .int(id)), ("administrators", .array(administrators.map(SimJSON.int)))])
        try await post("/_sim/clubs", String(decoding: body.encoded(), as: UTF8.self))
    }

    /// `user` opens `link`: `joined`, `requested` or `refused`.
    func join(_ user: Int64, club: Int64, link: String) async throws -> String {
        let body = SimJSON.obj([("user_id", .int(user)), ("invite_link", .string(link))])
        return try await post("/_sim/clubs/\(club)/join", String(decoding: body.encoded(), as: UTF8.self))["result"]?.stringValue ?? "?"
    }

    /// Drift: `user`'s membership of `club` becomes `status` without an update.
    func setMember(_ user: Int64, club: Int64, status: String) async throws {
        let body = SimJSON.obj([("user_id", .int(user)), ("status", .string(status))])
        try await post("/_sim/clubs/\(club)/members", String(decoding: body.encoded(), as: UTF8.self))
    }

    /// The club's members by status (`member`, `left`, `kicked`, `administrator`, ...).
    func members(of club: Int64) async throws -> [Int64: String] {
        var result: [Int64: String] = [:]
        if case .object(let pairs)? = try await get("/_sim/clubs/\(club)")["members"] {
            for (key, value) in pairs { if let id = Int64(key), let status = value.stringValue { result[id] = status } }
        }
        return result
    }
}
