import TollgateTelegram

/// Maps an incoming update to the flow: which event, for which user. Pure.
public enum UpdateRouting {
    /// What an update means to the flow; `nil` when the flow ignores it (group chatter, edits,
    /// channel posts, bots).
    public static func route(_ update: Update) -> (event: FlowEvent, user: FlowUser)? {
        if let message = update.message {
            guard message.chat.type == "private", let from = message.from, !from.isBot else { return nil }
            let user = FlowUser(userID: from.id, chatID: message.chat.id, firstName: from.firstName, username: from.username)
            switch message.command {
            case "/start": return (.start, user)
            case "/status": return (.status, user)
            default: return (.text, user)
            }
        }
        if let change = update.chatMember {
            let member = change.newChatMember.user
            guard !member.isBot else { return nil }
            let user = FlowUser(userID: member.id, chatID: member.id, firstName: member.firstName, username: member.username)
            return (.memberChanged(change), user)
        }
        if let request = update.chatJoinRequest {
            let user = FlowUser(
                userID: request.from.id, chatID: request.userChatID, firstName: request.from.firstName, username: request.from.username)
            return (.joinRequest(request), user)
        }
        if let query = update.callbackQuery {
            guard !query.from.isBot else { return nil }
            let chat = query.message?.chat.id ?? query.from.id
            let user = FlowUser(userID: query.from.id, chatID: chat, firstName: query.from.firstName, username: query.from.username)
            if query.data == FlowDefinition.getAccessData { return (.getAccess(callbackID: query.id), user) }
            if let topic = FlowDefinition.topicID(ofData: query.data), FlowDefinition.Topic.isValidID(topic) {
                return (.chooseTopic(id: topic, callbackID: query.id), user)
            }
            return (.otherButton(callbackID: query.id), user)
        }
        return nil
    }

    /// The callback query id of an event, if it has one (it must be answered even when limited).
    static func callbackID(_ event: FlowEvent) -> String? {
        switch event {
        case .getAccess(let id), .otherButton(let id), .chooseTopic(_, let id): id
        default: nil
        }
    }
}
