import TollgateHTTPServer

/// The simulator's control API over HTTP, for the sandbox and for tests in other processes.
/// JSON in, JSON out; ids are numbers.
///
/// | request | effect |
/// |---|---|
/// | `POST /_sim/users` `{"id", "first_name"?, "username"?}` or `{"ids": [...]}` | register users |
/// | `POST /_sim/messages` `{"user_id", "text", "chat_id"?, "first_name"?}` | a user writes; → `{"update_id"}` |
/// | `POST /_sim/callbacks` `{"user_id", "data", "message_id"?, "chat_id"?}` | a user presses a button; → `{"update_id"}` (404 without such a button) |
/// | `POST /_sim/users/{id}/block`, `/unblock`, `/deactivate` | the user blocks, unblocks, deletes the account |
/// | `POST /_sim/groups` `{"id", "title", "supergroup"?}` | register a group |
/// | `POST /_sim/groups/{id}/kick`, `/migrate` `{"to"}` | bot kicked, group upgraded |
/// | `GET /_sim/chats/{id}/messages`, `GET /_sim/messages` | what the bot sent |
/// | `GET /_sim/stats` | counters, pending updates, webhook URL |
/// | `POST /_sim/flood` `{"enabled"?, "global_per_second"?, ...}` | change the flood limits |
/// | `POST /_sim/hostile` `{"rate", "faults"?, "routes"?, "seed"?}` | misbehave (``SimHostility``); rate 0 heals |
/// | `GET /_sim/hostile` | the settings and how many replies were spoiled, by fault |
/// | `POST /_sim/clubs` `{"id", "title"?, "channel"?, "bot_admin"?, "can_invite_users"?, "can_restrict_members"?, "administrators"?}` | a paid club (private supergroup or channel) |
/// | `POST /_sim/clubs/{id}/join` `{"user_id", "invite_link"}` | a user opens a link; → `{"result": "joined" \| "requested" \| "refused", "reason"?}` |
/// | `POST /_sim/clubs/{id}/leave` `{"user_id"}` | a member leaves |
/// | `POST /_sim/clubs/{id}/members` `{"user_id", "status"}` | drift: a membership changes without an update (one lost after Telegram's 24 hours) |
/// | `POST /_sim/clubs/{id}/rights` `{"bot_admin", "can_invite_users", "can_restrict_members"}` | the owner changes the bot's rights |
/// | `GET /_sim/clubs/{id}` | members by status, links (who joined with each, revoked), pending join requests |
enum SimControlRoutes {
    static func handle(_ request: HTTPServerRequest, simulator: TelegramSimulator) async -> HTTPServerResponse {
        let parts = Array(request.path.split(separator: "/").map(String.init).dropFirst())  // drop "_sim"
        // Numeric segments become ":id" in the route; their values are kept in order.
        let ids = parts.compactMap { Int64($0) }
        let id = ids.first.map(String.init) ?? ""
        let route = request.method + " " + parts.map { Int64($0) == nil ? $0 : ":id" }.joined(separator: "/")
        let body = request.body.isEmpty ? SimJSON.object([]) : (SimJSON.parse(request.body) ?? .null)
        guard case .object = body else { return error(400, "body must be a JSON object") }
        switch route {
        case "POST users":
            let ids = body["ids"]?.arrayValue?.compactMap(\.int64Value) ?? []
            var users = ids.map { SimUser(id: $0) }
            if let id = body["id"]?.int64Value {
                users.append(
                    SimUser(id: id, firstName: body["first_name"]?.stringValue, username: body["username"]?.stringValue))
            }
            guard !users.isEmpty else { return error(400, "give 'id' or 'ids'") }
            simulator.addUsers(users)
            return ok(.obj([("registered", .int(Int64(users.count)))]))
        case "POST messages":
            guard let userID = body["user_id"]?.int64Value, let text = body["text"]?.stringValue else {
                return error(400, "give 'user_id' and 'text'")
            }
            let user = SimUser(id: userID, firstName: body["first_name"]?.stringValue, username: body["username"]?.stringValue)
            let id = simulator.userSends(text, from: user, chatID: body["chat_id"]?.int64Value)
            return ok(.obj([("update_id", .int(id))]))
        case "POST callbacks":
            guard let userID = body["user_id"]?.int64Value, let data = body["data"]?.stringValue else {
                return error(400, "give 'user_id' and 'data'")
            }
            do {
                let id = try simulator.userPresses(
                    data, from: SimUser(id: userID), messageID: body["message_id"]?.int64Value,
                    chatID: body["chat_id"]?.int64Value)
                return ok(.obj([("update_id", .int(id))]))
            } catch {
                return self.error(404, "no bot message with a button '\(data)' in that chat")
            }
        case "POST users/:id/block", "POST users/:id/unblock", "POST users/:id/deactivate":
            let action = parts.last ?? ""
            guard let userID = Int64(id) else { return error(400, "bad user id") }
            switch action {
            case "block": simulator.block(userID: userID)
            case "unblock": simulator.unblock(userID: userID)
            case "deactivate": simulator.deactivate(userID: userID)
            default: return error(404, "unknown action")
            }
            return ok(.bool(true))
        case "POST groups":
            guard let id = body["id"]?.int64Value, id < 0 else { return error(400, "give a negative 'id'") }
            simulator.addGroup(
                id: id, title: body["title"]?.stringValue ?? "Group \(-id)",
                supergroup: body["supergroup"] == .bool(true))
            return ok(.bool(true))
        case "POST groups/:id/kick":
            guard let groupID = Int64(id) else { return error(400, "bad group id") }
            simulator.kickBot(groupID: groupID)
            return ok(.bool(true))
        case "POST groups/:id/migrate":
            guard let groupID = Int64(id), let to = body["to"]?.int64Value else { return error(400, "give 'to'") }
            simulator.migrateGroup(groupID, to: to)
            return ok(.bool(true))
        case "GET chats/:id/messages":
            guard let chatID = Int64(id) else { return error(400, "bad chat id") }
            return ok(.array(simulator.sent(to: chatID).map(json)))
        case "GET messages":
            return ok(.array(simulator.allSent().map(json)))
        case "GET stats":
            return ok(stats(simulator))
        case "POST hostile":
            switch SimHostility.read(request.body) {
            case .success(let settings):
                simulator.setHostility(settings)
                return ok(.bool(true))
            case .failure(let problem):
                return error(400, problem.text)
            }
        case "GET hostile":
            let settings = simulator.hostile.settings
            return ok(
                .obj([
                    ("rate", .double(settings.rate)),
                    ("faults", .array(settings.faults.map { .string($0.rawValue) })),
                    ("injected", .obj(simulator.hostileInjected.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })),
                ]))
        case "POST flood":
            var limits = simulator.world.withLock { $0.flood.limits }
            if case .bool(let enabled)? = body["enabled"] { limits.enabled = enabled }
            if let v = number(body["global_per_second"]) { limits.globalPerSecond = v }
            if let v = body["global_burst"]?.int64Value { limits.globalBurst = Int(v) }
            if let v = number(body["per_chat_per_second"]) { limits.perChatPerSecond = v }
            if let v = body["per_chat_burst"]?.int64Value { limits.perChatBurst = Int(v) }
            if let v = number(body["per_group_per_minute"]) { limits.perGroupPerMinute = v }
            if let v = body["per_group_burst"]?.int64Value { limits.perGroupBurst = Int(v) }
            simulator.setFloodLimits(limits)
            return ok(.bool(true))
        case "POST clubs":
            guard let id = body["id"]?.int64Value, id < 0 else { return error(400, "give a negative 'id'") }
            simulator.addClub(
                id: id, title: body["title"]?.stringValue ?? "Club \(-id)", channel: body["channel"] == .bool(true),
                botIsAdmin: body["bot_admin"] != .bool(false), botCanInvite: body["can_invite_users"] != .bool(false),
                botCanRestrict: body["can_restrict_members"] != .bool(false),
                administrators: body["administrators"]?.arrayValue?.compactMap(\.int64Value) ?? [])
            return ok(.bool(true))
        case "POST clubs/:id/join":
            guard let clubID = Int64(id), let userID = body["user_id"]?.int64Value, let link = body["invite_link"]?.stringValue else {
                return error(400, "give 'user_id' and 'invite_link'")
            }
            switch simulator.join(userID, club: clubID, link: link) {
            case .joined: return ok(.obj([("result", .string("joined"))]))
            case .requested: return ok(.obj([("result", .string("requested"))]))
            case .refused(let reason): return ok(.obj([("result", .string("refused")), ("reason", .string(reason))]))
            }
        case "POST clubs/:id/leave":
            guard let clubID = Int64(id), let userID = body["user_id"]?.int64Value else { return error(400, "give 'user_id'") }
            simulator.leave(userID, club: clubID)
            return ok(.bool(true))
        case "POST clubs/:id/members":
            let statuses = ["member", "left", "kicked", "restricted", "administrator"]
            guard let clubID = Int64(id), let userID = body["user_id"]?.int64Value, let status = body["status"]?.stringValue,
                statuses.contains(status)
            else { return error(400, "give 'user_id' and 'status' (one of \(statuses.joined(separator: ", ")))") }
            simulator.setMembership(userID, club: clubID, status: status)
            return ok(.bool(true))
        case "POST clubs/:id/rights":
            guard let clubID = Int64(id) else { return error(400, "bad club id") }
            simulator.setBotRights(
                club: clubID, admin: body["bot_admin"] != .bool(false), canInvite: body["can_invite_users"] != .bool(false),
                canRestrict: body["can_restrict_members"] != .bool(false))
            return ok(.bool(true))
        case "GET clubs/:id":
            guard let clubID = Int64(id), let state = simulator.clubState(clubID) else { return error(404, "no such club") }
            return ok(
                .obj([
                    ("members", .obj(state.members.sorted { $0.key < $1.key }.map { (String($0.key), .string($0.value)) })),
                    (
                        "links",
                        .array(
                            state.links.sorted { $0.key < $1.key }.map { link, info in
                                .obj([
                                    ("invite_link", .string(link)), ("name", info.name.map(SimJSON.string)),
                                    ("member_limit", info.memberLimit.map { .int(Int64($0)) }),
                                    ("creates_join_request", .bool(info.createsJoinRequest)), ("is_revoked", .bool(info.isRevoked)),
                                    ("joined", .array(info.joined.map(SimJSON.int))),
                                ])
                            })
                    ),
                    ("pending_requests", .obj(state.pendingRequests.sorted { $0.key < $1.key }.map { (String($0.key), .string($0.value)) })),
                ]))
        default:
            return error(404, "unknown control request \(request.method) \(request.path)")
        }
    }

    static func number(_ value: SimJSON?) -> Double? {
        switch value {
        case .int(let v)?: Double(v)
        case .double(let d)?: d
        default: nil
        }
    }

    static func json(_ m: SimSentMessage) -> SimJSON {
        .obj([
            ("method", .string(m.method)), ("chat_id", .int(m.chatID)), ("message_id", .int(m.messageID)),
            ("text", m.text.map(SimJSON.string)), ("caption", m.caption.map(SimJSON.string)),
            ("media", m.mediaKind.map(SimJSON.string)), ("file_id", m.fileID.map(SimJSON.string)),
            ("callback_data", .array(m.callbackData.map(SimJSON.string))), ("at", .double(m.at)),
        ])
    }

    static func stats(_ simulator: TelegramSimulator) -> SimJSON {
        let c = simulator.counters
        return .obj([
            ("requests", .object(c.requests.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })),
            ("messages_accepted", .int(Int64(c.messagesAccepted))), ("flood_refusals", .int(Int64(c.floodRefusals))),
            ("flood_refusals_by_scope", .object(c.floodRefusalsByScope.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })),
            ("forbidden", .int(Int64(c.forbidden))), ("chat_not_found", .int(Int64(c.chatNotFound))),
            ("bad_requests", .int(Int64(c.badRequests))), ("unauthorized", .int(Int64(c.unauthorized))),
            ("conflicts", .int(Int64(c.conflicts))), ("uploads", .int(Int64(c.uploads))),
            ("webhook_attempts", .int(Int64(c.webhookAttempts))), ("webhook_failures", .int(Int64(c.webhookFailures))),
            ("updates_delivered", .int(Int64(c.updatesDelivered))),
            ("max_messages_in_one_second", .int(Int64(c.maxMessagesInOneSecond))),
            ("paid_broadcast_messages", .int(Int64(c.paidBroadcastMessages))),
            ("paid_broadcast_stars_tenths", .int(Int64(c.paidBroadcastCharged))),
            ("pending_updates", .int(Int64(simulator.pendingUpdateCount))),
            ("webhook_url", simulator.webhookURL.map(SimJSON.string)),
        ])
    }

    static func ok(_ value: SimJSON) -> HTTPServerResponse {
        HTTPServerResponse(
            status: 200, headers: [("Content-Type", "application/json")],
            body: SimJSON.obj([("ok", .bool(true)), ("result", value)]).encoded())
    }

    static func error(_ status: Int, _ text: String) -> HTTPServerResponse {
        HTTPServerResponse(
            status: status, headers: [("Content-Type", "application/json")],
            body: SimJSON.obj([("ok", .bool(false)), ("description", .string(text))]).encoded())
    }
}
