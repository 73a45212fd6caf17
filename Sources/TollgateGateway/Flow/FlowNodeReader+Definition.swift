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
                "access_renewed", "access_reinvite", "status", "help", "rate_limited",
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
            if let u = fields["url"] { flow.paymentURL = try url(u, "payment.url", placeholders: ["user_id", "record_id"]) }
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
            ("access_reinvite", \FlowDefinition.reinvite),
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
        return flow
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
