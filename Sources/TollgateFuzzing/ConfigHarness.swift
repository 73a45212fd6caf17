import TollgateBroadcast
import TollgateCore
import TollgateGateway
import TollgateRedis

/// What an operator writes: flow files, `REDIS_URL`, durations. A typed error naming the problem,
/// never a trap — and never the password in the message.
enum ConfigHarness {
    static func flow(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        do throws(FlowFileError) {
            let flow = try FlowFile.parse(text, name: "fuzz.yaml", baseDirectory: "/nonexistent-fuzz-dir")
            for reminder in flow.reminders {
                precondition(reminder.delay <= .seconds(365 * 86400), "a reminder delay beyond a year was accepted")
            }
            // Offers: ids fit a button's callback data; each offer's flow and the club's view of it hold.
            precondition(flow.topics.count <= 20)
            for topic in flow.topics {
                precondition(FlowDefinition.Topic.isValidID(topic.id) && FlowDefinition.topicData(topic.id).utf8.count <= 64)
                precondition(topic.chats.map { !$0.isEmpty && $0.allSatisfy { $0 < 0 } } ?? true)
                _ = flow.offer(topic.id)
            }
            var club = ClubConfiguration(chats: [-1001], accessPeriod: .seconds(86400))
            _ = club.adopt(flow.topics)
            for topic in flow.topics { precondition(club.chats(of: topic.id).allSatisfy { $0 == -1001 }) }
        } catch {
            _ = error.description
        }
    }

    /// An audience file and a broadcast text: ids or a typed error, never a trap; what is read
    /// holds only positive ids, each once.
    static func broadcast(_ data: [UInt8]) {
        do throws(BroadcastError) {
            let ids = try BroadcastIDList.parse(data)
            precondition(ids.allSatisfy { $0 > 0 } && Set(ids).count == ids.count)
        } catch {
            precondition(error.code == .invalid && !error.message.isEmpty)
        }
        let message = BroadcastMessage(text: String(decoding: data, as: UTF8.self))
        do throws(BroadcastError) {
            try message.validate()
            _ = message.rendered(firstName: "{user_id}", userID: 1)
        } catch {
            precondition(error.code == .invalid)
        }
        // The stored form, as a damaged record would hold it: lines as the fields in order, the
        // text, the media's kind and source, the flag, the button. A campaign or a typed refusal.
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var fields: [String: String] = [:]
        for (name, value) in zip(["text", "media_kind", "media_source", "allow_paid_broadcast", "on_uncertain", "button_text", "button_url"], lines) {
            fields[name] = value
        }
        do throws(BroadcastError) {
            let stored = try BroadcastMessage(fields: fields)
            if let media = stored.media {
                precondition(stored.text.utf16.count <= BroadcastMessage.maxCaption)
                _ = media.parsed
            }
            let again = try BroadcastMessage(fields: stored.fields)
            precondition(again == stored)
        } catch {
            precondition(error.code == .invalid && !error.message.isEmpty)
        }
    }

    /// Lines `KEY=VALUE` for the club's settings: a configuration or problems, never a trap; a
    /// configuration read holds only club chats (negative ids) and user ids (positive).
    static func club(_ data: [UInt8]) {
        var values: [String: String] = [:]
        let keys = [
            "CLUB_CHAT_ID", "ACCESS_MODE", "INVITE_TTL", "CLUB_ALLOW_LIST", "CLUB_REMOVE_UNENTITLED", "ACCESS_PERIOD",
            "NOCODB_PAID_UNTIL_FIELD", "RECONCILE_INTERVAL", "RECONCILE_SHARE", "NOCODB_OFFER_FIELD",
        ]
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").prefix(keys.count).enumerated() {
            values[keys[index]] = String(line)
        }
        var reader = ConfigReader(ConfigSource(values: values))
        let club = ClubConfiguration.read(&reader)
        if (try? reader.finish()) != nil, let club {
            precondition(!club.chats.isEmpty && club.chats.allSatisfy { $0 < 0 })
            precondition(club.allowList.allSatisfy { $0 > 0 })
            precondition(club.inviteTTL >= .seconds(60) && club.inviteTTL <= .seconds(30 * 86400))
            if let period = club.accessPeriod { precondition(period >= .seconds(10) && period <= .seconds(3650 * 86400)) }
            precondition(club.paidUntilField.map { !$0.isEmpty } ?? true)
            if let every = club.reconcileInterval { precondition(every >= .seconds(60) && every <= .seconds(30 * 86400)) }
            precondition(club.reconcileShare >= 0.01 && club.reconcileShare <= 1)
        }
    }

    static func redisURL(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        let secret = "Fuzz-Hunter2-Secret"
        // Any text: a URL or a typed error. (The fuzzer may write the secret below anywhere — in a
        // path, say — so only the inserted password is checked for echoes.)
        if let url = try? RedisURL(text) {
            let shown = url.description
            // The password is shown as <redacted>; what follows the user must not hold it (the
            // scheme and the user may happen to contain its text).
            if let password = url.password?.exposedValue, password.utf8.count >= 8, case .tcp(let host, _) = url.endpoint,
                !host.contains(password)
            {
                precondition(shown.contains("<redacted>"), "a password shown unredacted")
                let afterUser = shown.dropFirst(("redis://" + (url.user ?? "")).count)
                precondition(!afterUser.contains(password), "a password in the URL's description")
            }
        }
        // The same text with a known password inserted (in the authority of a redis:// URL, where a
        // password goes) must never echo it.
        if text.hasPrefix("redis://"), !text.contains(secret), let at = text.dropFirst(8).prefix(while: { $0 != "/" && $0 != "?" }).firstIndex(of: "@") {
            let withSecret = String(text[..<at]) + ":" + secret + String(text[at...])
            do throws(RedisError) {
                let url = try RedisURL(withSecret)
                precondition(!url.description.contains(secret), "a password in the URL's description")
            } catch {
                precondition(!error.message.contains(secret), "a password in an error message")
            }
        }
    }

    static func duration(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        if let d = DurationParser.parse(text) {
            precondition(d >= .zero && d <= DurationParser.longest, "a duration out of range was accepted")
            _ = DurationParser.format(d)
            _ = d.milliseconds
        }
        var reader = ConfigReader(ConfigSource(values: ["X": text]))
        _ = reader.duration("X", default: .seconds(1))
        _ = reader.int("X", default: 1, range: 0...10)
        _ = reader.double("X", default: 1, range: 0...10)
    }
}
