import TollgateCore
import TollgateHTTP
import TollgateNocoDB
import TollgateTelegram

/// Replies of the peers, read as the clients read them: never a trap, only values or typed errors.
enum PeerReplyHarness {
    static let statuses = [200, 200, 200, 400, 403, 404, 409, 422, 429, 500, 502, 503]

    /// First byte: the HTTP status; second byte: whether a `Retry-After` header follows (up to the
    /// first newline); the rest: the body.
    static func response(_ data: [UInt8]) -> HTTPResponse {
        let status = data.isEmpty ? 200 : statuses[Int(data[0]) % statuses.count]
        var rest = data.dropFirst()
        var headers: [(String, String)] = []
        if let flag = rest.first, flag & 1 == 1 {
            rest = rest.dropFirst()
            let line = rest.prefix { $0 != 0x0A }
            headers.append(("Retry-After", String(decoding: line, as: UTF8.self)))
            rest = rest.dropFirst(line.count + 1)
        } else {
            rest = rest.dropFirst()
        }
        return HTTPResponse(status: status, headers: headers, body: Array(rest), elapsed: .zero)
    }

    static func telegram(_ data: [UInt8]) {
        let r = response(data)
        check(try TelegramClient.decode(method: "getUpdates", r) as UpdateBatch)
        check(try TelegramClient.decode(method: "sendMessage", r) as Message)
        check(try TelegramClient.decode(method: "setWebhook", r) as Bool)
        check(try TelegramClient.decode(method: "getMe", r) as User)
        check(try TelegramClient.decode(method: "sendMediaGroup", r) as [Message])
        check(try TelegramClient.decode(method: "getChat", r) as Chat)
        check(try TelegramClient.decode(method: "createChatInviteLink", r) as ChatInviteLink)
        if let member = try? TelegramClient.decode(method: "getChatMember", r) as ChatMember {
            _ = member.isInside
            _ = member.isAdministrator
            // The owner has every right, whatever the reply says.
            if member.status == .creator { precondition(member.canInviteUsers && member.canRestrictMembers) }
        }
        if let batch = try? TelegramClient.decode(method: "getUpdates", r) as UpdateBatch {
            for update in batch.updates {
                _ = update.chatID
                _ = update.kind
                _ = update.message?.mediaFileID
                _ = update.message?.command
                if let change = update.chatMember ?? update.myChatMember {
                    // Joining and leaving exclude each other.
                    precondition(!(change.joined && change.left))
                }
                _ = update.chatJoinRequest?.inviteLink?.inviteLink
                _ = update.user
            }
        }
    }

    private static func check<T>(_ body: @autoclosure () throws(TelegramError) -> T) {
        do throws(TelegramError) {
            _ = try body()
        } catch {
            // A wait a peer asks for is never negative, and a description never traps.
            if let wait = error.retryAfter { precondition(wait >= .zero) }
            _ = error.description
        }
    }

    static func nocodb(_ data: [UInt8]) {
        let r = response(data)
        if let page = try? NocoDBClient.decode(NocoDBPage.self, r) {
            for row in page.list {
                _ = row.id
                _ = row.updatedAtMs.map(NocoDBTimestamp.format)
                for value in row.fields.values {
                    _ = value.text; _ = value.int; _ = value.isTruthy
                    if let ms = PaidUntil.milliseconds(value) { precondition(ms > 0 && ms <= PaidUntil.maxMs); _ = PaidUntil.text(ms) }
                }
            }
        }
        _ = try? NocoDBClient.decode(NocoDBRecord.self, r)
        struct Count: Decodable { var count: Int }
        _ = try? NocoDBClient.decode(Count.self, r)
        _ = NocoDBClient.error(from: r, code: .invalidRequest).description
    }

    static func retryAfter(_ data: [UInt8]) {
        let value = String(decoding: data, as: UTF8.self)
        let r = HTTPResponse(status: 429, headers: [("Retry-After", value)], body: [], elapsed: .zero)
        guard let wait = r.retryAfter else { return }
        precondition(wait >= .zero, "a negative Retry-After")
        precondition(wait <= .seconds(100 * 365 * 86400), "a Retry-After beyond any sleep")
        let bounded = PeerWait(name: "fuzz", max: .seconds(300)).bound(wait)
        precondition(bounded.wait <= .seconds(300))
        _ = bounded.wait.milliseconds
        _ = bounded.wait.microseconds
    }
}
