import Yams

/// The sections of a flow file.
extension FlowNodeReader {
    static let all: Set<String> = FlowTemplate.names
    static let beforeRecord: Set<String> = ["first_name", "user_id"]
    static let messageKeys = ["text", "photo", "video", "document", "on_uncertain"]

    mutating func definition(_ root: Node) throws(FlowFileError) -> FlowDefinition {
        let top = try mapping(
            root, "the flow",
            allowed: [
                "welcome", "payment", "reminders", "renewal_reminders", "paid", "already_paid", "expired", "access_lapsed",
                "access_renewed", "access_reinvite", "status", "help", "rate_limited", "topics", "topic_chosen", "topic_locked",
            ])
        var flow = FlowDefinition.defaults
        if let node = top["welcome"] {
            let fields = try mapping(node, "welcome", allowed: Self.messageKeys + ["button", "answer"])
            flow.welcome = try message(fields, "welcome", base: flow.welcome, placeholders: Self.beforeRecord, owner: node)
            if let b = fields["button"] { flow.getAccessButton = try text(b, "welcome.button", placeholders: [], maxUTF16: 64) }
            if let a = fields["answer"] { flow.getAccessAnswer = try text(a, "welcome.answer", placeholders: [], maxUTF16: 200) }
        }
        if let node = top["payment"] {
            let fields = try mapping(node, "payment", allowed: Self.messageKeys + ["url", "button", "watch_for"])
            if let u = fields["url"] { flow.paymentURL = try url(u, "payment.url", placeholders: Self.urlPlaceholders) }
            flow.payment = try message(fields, "payment", base: flow.payment, placeholders: Self.all, owner: node)
            if let b = fields["button"] {
                let label = try string(b, "payment.button")
                flow.payButton = label.isEmpty ? nil : try text(b, "payment.button", placeholders: [], maxUTF16: 64)
            }
            if let w = fields["watch_for"] { flow.watchFor = try duration(w, "payment.watch_for", min: .seconds(1)) }
        }
        if let node = top["reminders"] { flow.reminders = try reminders(node, "reminders", timing: "delay") }
        if let node = top["renewal_reminders"] {
            flow.renewalReminders = try reminders(node, "renewal_reminders", timing: "before")
        }
        if let node = top["paid"] {
            let fields = try mapping(node, "paid", allowed: Self.messageKeys + ["invite_link"])
            if let l = fields["invite_link"] { flow.inviteLink = try url(l, "paid.invite_link", placeholders: []) }
            flow.paid = try message(fields, "paid", base: flow.paid, placeholders: Self.all, owner: node)
        }
        for (key, keyPath) in [
            ("already_paid", \FlowDefinition.alreadyPaid), ("expired", \FlowDefinition.expired),
            ("access_lapsed", \FlowDefinition.lapsed), ("access_renewed", \FlowDefinition.renewed),
            ("access_reinvite", \FlowDefinition.reinvite), ("topic_chosen", \FlowDefinition.topicChosen),
            ("topic_locked", \FlowDefinition.topicLocked),
        ] {
            guard let node = top[key] else { continue }
            let fields = try mapping(node, key, allowed: Self.messageKeys)
            flow[keyPath: keyPath] = try message(fields, key, base: flow[keyPath: keyPath], placeholders: Self.all, owner: node)
        }
        if let node = top["status"] {
            let fields = try mapping(node, "status", allowed: ["none"] + UserPhase.allCases.map(\.rawValue))
            for (phase, value) in fields { flow.status[phase] = try text(value, "status.\(phase)", placeholders: Self.all) }
        }
        if let node = top["help"] {
            let value = try string(node, "help")
            flow.help = value.isEmpty ? nil : try text(node, "help", placeholders: Self.beforeRecord)
        }
        if let node = top["rate_limited"] {
            flow.rateLimited = try text(node, "rate_limited", placeholders: Self.beforeRecord)
        }
        if let node = top["topics"] { flow.topics = try topics(node, over: flow) }
        return flow
    }

    static let urlPlaceholders: Set<String> = ["user_id", "record_id", "topic"]

    /// The offers (`topics`): each an `id`, a `title`, and optionally its `chats`, `access_period`,
    /// `payment` (url, text), `reminders`, `renewal_reminders` and `paid` text; what it leaves out
    /// is `flow`'s.
    mutating func topics(_ node: Node, over flow: FlowDefinition) throws(FlowFileError) -> [FlowDefinition.Topic] {
        guard let items = node.sequence else { throw fail(node, "topics must be a list") }
        guard items.count <= 20 else { throw fail(node, "topics: at most 20 offers (one button each), got \(items.count)") }
        var topics: [FlowDefinition.Topic] = []
        for (index, item) in items.enumerated() {
            let path = "topics[\(index)]"
            let fields = try mapping(
                item, path,
                allowed: ["id", "title", "chats", "access_period", "payment", "reminders", "renewal_reminders", "paid"])
            guard let idNode = fields["id"] else { throw fail(item, "\(path) needs an 'id'") }
            let id = try string(idNode, "\(path).id")
            guard FlowDefinition.Topic.isValidID(id) else { throw fail(idNode, "\(path).id must be 1-32 of a-z 0-9 _ -") }
            guard !topics.contains(where: { $0.id == id }) else { throw fail(idNode, "\(path).id '\(id)' is used twice") }
            guard let titleNode = fields["title"] else { throw fail(item, "\(path) needs a 'title' (its button's label)") }
            var topic = FlowDefinition.Topic(id: id, title: try text(titleNode, "\(path).title", placeholders: [], maxUTF16: 64))
            if let node = fields["chats"] {
                guard let list = node.sequence, !list.isEmpty else { throw fail(node, "\(path).chats must be a list of chat ids") }
                var chats: [Int64] = []
                for chatNode in list {
                    let raw = try string(chatNode, "\(path).chats")
                    guard let chat = Int64(raw), chat < 0 else {
                        throw fail(chatNode, "\(path).chats: expected negative chat ids (-100…), got '\(raw.prefix(40))'")
                    }
                    if !chats.contains(chat) { chats.append(chat) }
                }
                topic.chats = chats
            }
            if let node = fields["access_period"] {
                topic.accessPeriod = try duration(node, "\(path).access_period", min: .seconds(10), max: .seconds(3650 * 86400))
            }
            if let node = fields["payment"] {
                let payment = try mapping(node, "\(path).payment", allowed: Self.messageKeys + ["url"])
                if let u = payment["url"] { topic.paymentURL = try url(u, "\(path).payment.url", placeholders: Self.urlPlaceholders) }
                if payment.keys.contains(where: { $0 != "url" }) {
                    topic.payment = try message(payment, "\(path).payment", base: flow.payment, placeholders: Self.all, owner: node)
                }
            }
            if let node = fields["reminders"] { topic.reminders = try reminders(node, "\(path).reminders", timing: "delay") }
            if let node = fields["renewal_reminders"] {
                topic.renewalReminders = try reminders(node, "\(path).renewal_reminders", timing: "before")
            }
            if let node = fields["paid"] {
                let paid = try mapping(node, "\(path).paid", allowed: Self.messageKeys)
                topic.paid = try message(paid, "\(path).paid", base: flow.paid, placeholders: Self.all, owner: node)
            }
            topics.append(topic)
        }
        return topics
    }

    /// A list of reminders (`reminders`: `delay` after "Get access"; `renewal_reminders`:
    /// `before` the paid period ends).
    mutating func reminders(_ node: Node, _ section: String, timing: String) throws(FlowFileError) -> [FlowDefinition.Reminder] {
        guard let items = node.sequence else { throw fail(node, "\(section) must be a list") }
        var reminders: [FlowDefinition.Reminder] = []
        for (index, item) in items.enumerated() {
            let path = "\(section)[\(index)]"
            let fields = try mapping(item, path, allowed: Self.messageKeys + ["step", timing])
            guard let stepNode = fields["step"] else { throw fail(item, "\(path) needs a 'step' name") }
            let step = try string(stepNode, "\(path).step")
            guard !step.isEmpty, step.utf8.count <= 40,
                step.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
            else { throw fail(stepNode, "\(path).step must be 1-40 of A-Z a-z 0-9 _ -") }
            guard !reminders.contains(where: { $0.step == step }) else {
                throw fail(stepNode, "\(path).step '\(step)' is used twice")
            }
            guard let delayNode = fields[timing] else { throw fail(item, "\(path) needs a '\(timing)'") }
            let delay = try duration(delayNode, "\(path).\(timing)", min: .seconds(1))
            guard fields["text"] != nil else { throw fail(item, "\(path) needs a 'text'") }
            let msg = try message(fields, path, base: FlowDefinition.Message(text: "-"), placeholders: Self.all, owner: item)
            reminders.append(FlowDefinition.Reminder(step: step, delay: delay, message: msg))
        }
        return reminders
    }
}
