import Foundation
import Testing
import TollgateCore
import TollgateHTTP

@testable import TollgateTelegram

/// Replies and updates from a peer that does not keep to the Bot API's types: each is read as far
/// as it can be, never trapping and never letting one element spoil the rest.
@Suite struct HostileRepliesTests {
    @Test func oneUnreadableUpdateDoesNotSpoilTheBatch() throws {
        let json = """
            [{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 7, "type": "private"}, "date": 1, "text": "/start"}},
             {"update_id": "two"},
             {"update_id": 3, "message": {"message_id": 2, "chat": {"id": 7, "type": "private"}, "date": 1.5,
               "text": "/start", "photo": [{"file_id": "a", "file_unique_id": "u", "width": 1e20, "height": 1}]}},
             {"update_id": 4, "message": {"chat": "junk"}},
             {"update_id": 5, "callback_query": {"id": 9}},
             7]
            """
        let batch = try JSONDecoder().decode(UpdateBatch.self, from: Data(json.utf8))
        #expect(batch.updates.map(\.updateID) == [1, 3, 4, 5])
        #expect(batch.skipped == 2)
        let third = batch.updates[1]
        #expect(third.message?.command == "/start")
        #expect(third.message?.photo == nil)
        #expect(third.message?.date == 0)
        #expect(third.unreadable.isEmpty)
        #expect(batch.updates[2].message == nil)
        #expect(batch.updates[2].unreadable == ["message"])
        #expect(batch.updates[3].unreadable == ["callback_query"])
    }

    @Test func hugePhotoSizesDoNotOverflow() {
        let big = PhotoSize(fileID: "big", fileUniqueID: "b", width: .max, height: .max)
        let small = PhotoSize(fileID: "small", fileUniqueID: "s", width: 10, height: 10)
        let message = Message(messageID: 1, chat: Chat(id: 1, type: "private"), date: 0, photo: [small, big, big])
        #expect(message.mediaFileID == "big")
    }

    @Test func anAbsurdRetryAfterIsAnOrdinaryValueNotATrap() throws {
        // 10^20 seconds in the header, a far-future date, a number JSON cannot hold as Int.
        let header = TelegramError.fromReply(
            method: "sendMessage", status: 429, errorCode: 429, description: "Too Many Requests", retryAfterSeconds: nil,
            migrateToChatID: nil, headerRetryAfter: .seconds(Int64.max))
        #expect(header.code == .rateLimited)
        #expect(header.description.contains("retry after"))
        let body = #"{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":1e20}}"#
        let response = HTTPResponse(
            status: 429, headers: [("Retry-After", "100000000000000000000")], body: Array(body.utf8), elapsed: .zero)
        do {
            let _: Bool = try TelegramClient.decode(method: "sendMessage", response)
            Issue.record("a 429 decoded as success")
        } catch {
            #expect(error.code == .rateLimited)
            #expect(error.retryAfter != nil)
        }
    }
}
