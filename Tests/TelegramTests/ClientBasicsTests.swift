import Testing
import TollgateCore
import TollgateHTTP
import TollgateSimulators
import TollgateTelegram

@Suite("Telegram client against the simulator", .timeLimit(.minutes(2)))
struct ClientBasicsTests {
    @Test("getMe returns the bot; a wrong token is unauthorized")
    func getMe() async throws {
        try await withSimulator { sim in
            let me = try await sim.telegram.getMe()
            #expect(me.id == 123456)
            #expect(me.isBot)
            #expect(me.username == "tollgate_sim_bot")
            let wrong = sim.client(token: "123456:WRONG-token-BBBB")
            do throws(TelegramError) {
                _ = try await wrong.getMe()
                Issue.record("a wrong token must fail")
            } catch {
                #expect(error.code == .unauthorized)
                #expect(error.errorCode == 401)
            }
        }
    }

    @Test("sendMessage with an inline keyboard; callback answered; message edited")
    func sendKeyboardAnswerEdit() async throws {
        try await withSimulator { sim in
            let user = SimUser(id: 5001, firstName: "Ana")
            sim.simulator.userSends("/start", from: user)
            let updates = try await sim.telegram.getUpdates(offset: nil, timeout: 0).updates
            #expect(updates.count == 1)
            #expect(updates[0].message?.command == "/start")
            #expect(updates[0].message?.from?.firstName == "Ana")
            #expect(updates[0].chatID == 5001)

            let keyboard = InlineKeyboardMarkup([[.callback("Get access", data: "get_access")], [.link("Site", url: "https://example.com")]])
            let sent = try await sim.telegram.sendMessage(chatID: 5001, text: "Welcome, Ana", replyMarkup: keyboard)
            #expect(sent.chat.id == 5001)
            #expect(sent.text == "Welcome, Ana")
            #expect(sent.replyMarkup == keyboard)
            let recorded = sim.simulator.sent(to: 5001)
            #expect(recorded.count == 1)
            #expect(recorded[0].callbackData == ["get_access"])

            try sim.simulator.userPresses("get_access", from: user)
            let next = try await sim.telegram.getUpdates(offset: updates[0].updateID + 1, timeout: 0).updates
            #expect(next.count == 1)
            let query = try #require(next[0].callbackQuery)
            #expect(query.data == "get_access")
            #expect(query.message?.messageID == sent.messageID)
            #expect(next[0].chatID == 5001)
            #expect(try await sim.telegram.answerCallbackQuery(id: query.id, text: "One moment"))
            // A query can be answered once.
            await #expect(throws: TelegramError.self) { try await sim.telegram.answerCallbackQuery(id: query.id) }

            let edited = try await sim.telegram.editMessageText(chatID: 5001, messageID: sent.messageID, text: "Welcome back")
            #expect(edited.text == "Welcome back")
            #expect(sim.simulator.sent(to: 5001).map(\.method) == ["sendMessage", "editMessageText"])
            // Pressing a button that no message has is refused by the simulator.
            #expect(throws: TelegramSimulator.ControlError.self) { try sim.simulator.userPresses("nope", from: user) }
        }
    }

    @Test("Validation errors are bad requests, not retryable")
    func validation() async throws {
        try await withSimulator { sim in
            sim.simulator.addUsers([SimUser(id: 7)])
            for (text, markup) in [
                ("", nil), (String(repeating: "x", count: 4097), nil),
                ("ok", InlineKeyboardMarkup([[.callback("b", data: String(repeating: "d", count: 65))]])),
            ] as [(String, InlineKeyboardMarkup?)] {
                do throws(TelegramError) {
                    _ = try await sim.telegram.sendMessage(chatID: 7, text: text, replyMarkup: markup)
                    Issue.record("must fail: \(text.prefix(10))")
                } catch {
                    #expect(error.code == .badRequest)
                    #expect(!error.isRetryable)
                    #expect(!error.isPermanentForChat)
                }
            }
            #expect(sim.simulator.allSent().isEmpty)
        }
    }

    @Test("Blocked, deactivated, unknown, kicked and migrated chats map to typed errors")
    func permanentErrors() async throws {
        try await withSimulator { sim in
            sim.simulator.addUsers([SimUser(id: 11), SimUser(id: 12)])
            sim.simulator.block(userID: 11)
            sim.simulator.deactivate(userID: 12)
            sim.simulator.addGroup(id: -500, title: "Club")
            sim.simulator.addGroup(id: -600, title: "Old")
            sim.simulator.kickBot(groupID: -500)
            sim.simulator.migrateGroup(-600, to: -1_000_000_600)
            let cases: [(Int64, TelegramError.Code, String)] = [
                (11, .forbidden, "blocked"), (12, .forbidden, "deactivated"), (999, .chatNotFound, "chat not found"),
                (-500, .forbidden, "kicked"), (-600, .chatMigrated, "upgraded"),
            ]
            for (chat, code, words) in cases {
                do throws(TelegramError) {
                    _ = try await sim.telegram.sendMessage(chatID: chat, text: "hi")
                    Issue.record("chat \(chat) must fail")
                } catch {
                    #expect(error.code == code, "chat \(chat)")
                    #expect(error.detail.contains(words), "\(error.detail)")
                    #expect(error.isPermanentForChat == (code == .forbidden || code == .chatNotFound))
                    if code == .chatMigrated { #expect(error.migrateToChatID == -1_000_000_600) }
                }
            }
            // The migrated supergroup accepts messages.
            let moved = try await sim.telegram.sendMessage(chatID: -1_000_000_600, text: "hello supergroup")
            #expect(moved.chat.type == "supergroup")
            // Writing to the bot unblocks it.
            sim.simulator.userSends("hi again", from: SimUser(id: 11))
            _ = try await sim.telegram.sendMessage(chatID: 11, text: "welcome back")
            #expect(sim.simulator.counters.forbidden == 3)
        }
    }

    @Test("Flood limits: 429 with retry_after (body and header), per chat and global")
    func floodLimits() async throws {
        // Slow limits, so that a loaded machine cannot spread the sends out enough to refill a bucket.
        try await withSimulator(limits: SimFloodLimits(globalPerSecond: 1, globalBurst: 10, perChatPerSecond: 0.05, perChatBurst: 3)) { sim in
            sim.simulator.addUsers((1...40).map { SimUser(id: Int64($0)) })
            var refused: TelegramError?
            for i in 0..<4 {
                do {
                    _ = try await sim.telegram.sendMessage(chatID: 1, text: "burst \(i)")
                } catch let error as TelegramError {
                    refused = error
                }
            }
            let error = try #require(refused, "the 4th message to one chat in a burst must be refused")
            #expect(error.code == .rateLimited)
            #expect(error.isRetryable)
            #expect((error.retryAfter ?? .zero) >= .seconds(1))
            #expect(sim.simulator.counters.floodRefusalsByScope["chat"] == 1)

            // The header is there too, for clients that read only HTTP.
            let raw = try await sim.http.execute(
                .get("\(sim.base)/bot\(testToken)/sendMessage?chat_id=1&text=again"))
            #expect(raw.status == 429)
            #expect(raw.retryAfter != nil)

            // 40 chats at once: the global budget (burst 10) refuses some.
            var globalRefusals = 0
            for chat in 2...40 {
                do {
                    _ = try await sim.telegram.sendMessage(chatID: Int64(chat), text: "bulk")
                } catch let error as TelegramError {
                    if error.code == .rateLimited { globalRefusals += 1 }
                }
            }
            #expect(globalRefusals > 0)
            #expect((sim.simulator.counters.floodRefusalsByScope["global"] ?? 0) == globalRefusals)
        }
    }

    @Test("Parameters are accepted as query, form, JSON and multipart")
    func parameterEncodings() async throws {
        try await withSimulator { sim in
            sim.simulator.addUsers([SimUser(id: 21), SimUser(id: 22), SimUser(id: 23), SimUser(id: 24)])
            let url = "\(sim.base)/bot\(testToken)/sendMessage"
            let query = try await sim.http.execute(.get(url + "?chat_id=21&text=via%20query"))
            #expect(query.status == 200)
            let form = try await sim.http.execute(
                HTTPRequest(
                    method: "POST", url: url,
                    body: .bytes(Array("chat_id=22&text=via+form&reply_markup=%7B%22inline_keyboard%22%3A%5B%5B%7B%22text%22%3A%22b%22%2C%22callback_data%22%3A%22x%22%7D%5D%5D%7D".utf8), contentType: "application/x-www-form-urlencoded")))
            #expect(form.status == 200)
            let json = try await sim.http.execute(
                HTTPRequest(method: "POST", url: url, body: .bytes(Array(#"{"chat_id":23,"text":"via json"}"#.utf8), contentType: "application/json")))
            #expect(json.status == 200)
            let multipart = try await sim.http.execute(
                HTTPRequest(method: "POST", url: url, body: .multipart([.field("chat_id", "24"), .field("text", "via multipart")])))
            #expect(multipart.status == 200)
            #expect(sim.simulator.sent(to: 21).first?.text == "via query")
            #expect(sim.simulator.sent(to: 22).first?.text == "via form")
            #expect(sim.simulator.sent(to: 22).first?.callbackData == ["x"])
            #expect(sim.simulator.sent(to: 23).first?.text == "via json")
            #expect(sim.simulator.sent(to: 24).first?.text == "via multipart")
            // Method names are case-insensitive; unknown methods are 404.
            let upper = try await sim.http.execute(.get("\(sim.base)/bot\(testToken)/GETME"))
            #expect(upper.status == 200)
            let unknown = try await sim.http.execute(.get("\(sim.base)/bot\(testToken)/frobnicate"))
            #expect(unknown.status == 404)
        }
    }

    @Test("Decoding tolerates unknown fields and update kinds")
    func tolerantDecoding() throws {
        let json = #"""
            {"update_id":9,"message":{"message_id":1,"date":1,"chat":{"id":4,"type":"private","is_forum":false},
             "from":{"id":4,"is_bot":false,"first_name":"X","is_premium":true},"text":"hi","quote":{"x":1},
             "link_preview_options":{}},"unknown_top":{"deep":[1,2,3]}}
            """#
        let update = try JSONDecoder().decode(Update.self, from: Data(json.utf8))
        #expect(update.updateID == 9)
        #expect(update.message?.text == "hi")
        let poll = try JSONDecoder().decode(Update.self, from: Data(#"{"update_id":10,"poll":{"id":"p"}}"#.utf8))
        #expect(poll.kind == "other")
        #expect(poll.chatID == nil)
    }
}

import Foundation
