import Foundation
import Logging
import ServiceLifecycle
import TollgateCore
import TollgateTelegram

/// Checks at start that the bot can keep the club's door: it sees each `CLUB_CHAT_ID` chat, is
/// an administrator there, may create invite links (`can_invite_users`) and, where members who
/// are not entitled are removed, may ban them (`can_restrict_members`). A definite "no" from
/// Telegram ends the gateway with status 78 naming the chat and the right; a Telegram that cannot
/// be reached (5xx, timeouts, 429) is asked again until it answers.
public struct ClubPreflight: Service {
    /// What one chat's answers mean.
    public enum Verdict: Sendable, Equatable {
        case ready
        /// Telegram said no: the operator must change something. The text says what.
        case refused(String)
        /// No definite answer (Telegram unreachable or limiting): ask again.
        case askAgain(String)
    }

    let telegram: TelegramClient
    let club: ClubConfiguration
    let logger: Logger
    let exit: @Sendable (String) -> Void

    public init(
        telegram: TelegramClient, club: ClubConfiguration, logger: Logger,
        exit: @escaping @Sendable (String) -> Void = ClubPreflight.refuseToStart
    ) {
        self.telegram = telegram
        self.club = club
        self.logger = logger
        self.exit = exit
    }

    /// The default on a refusal: one line on stderr and exit status 78 (EX_CONFIG), as for any
    /// configuration problem.
    public static let refuseToStart: @Sendable (String) -> Void = { text in
        FileHandle.standardError.write(Data("bot-gateway: refusing to start: \(text)\n".utf8))
        Foundation.exit(ConfigError.exitCode)
    }

    /// The verdict for one chat from its `getChat` and the bot's `getChatMember` (pure).
    public static func verdict(
        chatID: Int64, chat: Result<Chat, TelegramError>, bot: Result<ChatMember, TelegramError>?, needRestrict: Bool
    ) -> Verdict {
        let name = "CLUB_CHAT_ID \(chatID)"
        switch chat {
        case .failure(let error) where error.isRetryable || error.code == .invalidResponse || error.code == .cancelled:
            return .askAgain("getChat: \(error.code.rawValue)")
        case .failure(let error) where error.code == .unauthorized:
            return .refused("BOT_TOKEN was refused by Telegram (\(error.detail))")
        case .failure(let error):
            return .refused("\(name): the bot cannot see this chat (\(error.detail)); add the bot to it as an administrator")
        case .success(let chat):
            guard chat.type == "supergroup" || chat.type == "channel" else {
                return .refused("\(name) is a \(chat.type), not a supergroup or channel (invite links need one)")
            }
        }
        switch bot {
        case nil:
            return .askAgain("getChatMember not asked yet")
        case .failure(let error)? where error.isRetryable || error.code == .invalidResponse || error.code == .cancelled:
            return .askAgain("getChatMember: \(error.code.rawValue)")
        case .failure(let error)?:
            return .refused("\(name): cannot read the bot's rights (\(error.detail))")
        case .success(let member)?:
            guard member.isAdministrator else {
                return .refused("\(name): the bot is \(member.status.text), not an administrator; make it an administrator")
            }
            if !member.canInviteUsers {
                return .refused("\(name): the bot lacks the right can_invite_users (\"Invite users via link\")")
            }
            if needRestrict && !member.canRestrictMembers {
                return .refused(
                    "\(name): the bot lacks the right can_restrict_members (\"Ban users\"), needed to remove members who did not pay or whose period ended")
            }
            return .ready
        }
    }

    /// Checks every chat once; returns the first refusal, or nil when all are ready. Asks again
    /// (with backoff) while Telegram gives no definite answer.
    public func check() async -> String? {
        var backoff = Backoff(base: .milliseconds(500), cap: .seconds(30))
        var botID: Int64?
        for chatID in club.chats {
            while !Task.isCancelled {
                let chat: Result<Chat, TelegramError>
                do throws(TelegramError) { chat = .success(try await telegram.getChat(chatID: chatID)) } catch { chat = .failure(error) }
                var bot: Result<ChatMember, TelegramError>?
                if case .success = chat {
                    do throws(TelegramError) {
                        if botID == nil { botID = try await telegram.getMe().id }
                        bot = .success(try await telegram.getChatMember(chatID: chatID, userID: botID ?? 0))
                    } catch {
                        bot = .failure(error)
                    }
                }
                switch Self.verdict(chatID: chatID, chat: chat, bot: bot, needRestrict: club.needsRestrict) {
                case .ready:
                    logger.info("club chat ready", metadata: ["chat": "\(chatID)"])
                case .refused(let text):
                    return text
                case .askAgain(let why):
                    logger.warning("cannot check the club chat yet; asking again", metadata: ["chat": "\(chatID)", "why": "\(why)"])
                    try? await Task.sleep(for: backoff.next())
                    continue
                }
                break
            }
        }
        return nil
    }

    public func run() async throws {
        if let refusal = await check() {
            logger.critical("refusing to start: the club's door cannot be kept", metadata: ["problem": "\(refusal)"])
            exit(refusal)
            return
        }
        try? await gracefulShutdown()
    }
}
