import TollgateIPC
import TollgateTelegram

/// What the bot says and when: texts, buttons, delays and media of the paid-access flow.
///
/// Built-in defaults cover everything; a flow file (``FlowFile``, `FLOW_FILE`) overrides any part.
/// Texts may use placeholders: `{first_name}`, `{user_id}`, `{record_id}`, `{payment_url}`,
/// `{invite_link}`, `{access_until}` (each message allows the ones that make sense there; the loader checks).
public struct FlowDefinition: Sendable, Hashable {
    /// A picture, video or document: a `file_id`, a URL, or bytes read from a file at start.
    public struct Media: Sendable, Hashable {
        public var kind: InputMedia.Kind
        public var file: InputFile

        public init(kind: InputMedia.Kind, file: InputFile) {
            self.kind = kind
            self.file = file
        }
    }

    /// One message: its text (the caption when there is media) and optional media.
    public struct Message: Sendable, Hashable {
        public var text: String
        public var media: Media?
        /// What a send of this message left uncertain does (`on_uncertain`); `nil`: the default of
        /// the place it is sent from (``FlowSend/OnUncertain``).
        public var onUncertain: FlowSend.OnUncertain?

        public init(text: String, media: Media? = nil, onUncertain: FlowSend.OnUncertain? = nil) {
            self.text = text
            self.media = media
            self.onUncertain = onUncertain
        }
    }

    /// A reminder sent `delay` after "Get access" while the user has not paid.
    public struct Reminder: Sendable, Hashable {
        /// The step name (the reminder job's `payload.step`); unique within the flow.
        public var step: String
        public var delay: Duration
        public var message: Message

        public init(step: String, delay: Duration, message: Message) {
            self.step = step
            self.delay = delay
            self.message = message
        }
    }

    /// One offer of several (`topics` in the flow file): what it is called, which club chats it
    /// opens, its payment page, period and reminder texts. Anything it leaves out is the flow's.
    public struct Topic: Sendable, Hashable {
        /// 1-32 of a-z 0-9 _ - (the button's callback data is `topic:<id>`).
        public var id: String
        /// The button's label and `{topic_title}`.
        public var title: String
        /// The club chats this offer opens; nil: every club chat (`CLUB_CHAT_ID`).
        public var chats: [Int64]?
        /// How long a payment for this offer gives access; nil: `ACCESS_PERIOD`.
        public var accessPeriod: Duration?
        public var paymentURL: String?
        public var payment: Message?
        public var reminders: [Reminder]?
        public var renewalReminders: [Reminder]?
        public var paid: Message?

        public init(
            id: String, title: String, chats: [Int64]? = nil, accessPeriod: Duration? = nil, paymentURL: String? = nil,
            payment: Message? = nil, reminders: [Reminder]? = nil, renewalReminders: [Reminder]? = nil, paid: Message? = nil
        ) {
            self.id = id
            self.title = title
            self.chats = chats
            self.accessPeriod = accessPeriod
            self.paymentURL = paymentURL
            self.payment = payment
            self.reminders = reminders
            self.renewalReminders = renewalReminders
            self.paid = paid
        }

        /// Whether `id` can be an offer's id.
        public static func isValidID(_ id: String) -> Bool {
            ClubGrant.isOfferID(id)
        }
    }

    public var welcome: Message
    /// The offers (`topics`). With two or more, `/start` asks the user to pick one (inline
    /// buttons) and "Get access" continues for it; with one, its values are the flow's; with none,
    /// the flow as it is.
    public var topics: [Topic] = []
    /// Sent when a user picks an offer, with the "Get access" button (`topic_chosen`).
    public var topicChosen = Message(text: "You chose {topic_title}. Press the button below to get access.")
    /// Sent when a user who is paying for one offer picks another (`topic_locked`): the payment
    /// in progress decides which offer it opens, so the choice stays until it is paid or expires.
    public var topicLocked = Message(
        text: "Your payment for {topic_title} is in progress: {payment_url}\nYou can choose another offer once this link has expired.")
    /// The label of the inline button under the welcome ("Get access").
    public var getAccessButton: String
    /// The notice shown when the button is pressed (a toast); `nil` shows none.
    public var getAccessAnswer: String?
    /// The payment page; `{user_id}` and `{record_id}` are filled in.
    public var paymentURL: String
    public var payment: Message
    /// The label of a URL button to the payment page; `nil`: no button, the text carries the link.
    public var payButton: String?
    /// How long the payment is watched after "Get access".
    public var watchFor: Duration
    public var reminders: [Reminder]
    /// The club's door with access periods: reminders sent `delay` *before* the period ends
    /// (`renewal_reminders`); one whose time has passed when access is granted is not sent.
    public var renewalReminders: [Reminder]
    /// Sent when a paid period ended and the member was shown out (`access_lapsed`).
    public var lapsed: Message
    /// Sent when a period was renewed while it ran (`access_renewed`).
    public var renewed: Message
    /// Sent by a reconciliation to a payer who is entitled but outside every club chat without a
    /// live link (`access_reinvite`): a fresh personal link, once per grant.
    public var reinvite: Message
    public var paid: Message
    public var inviteLink: String
    public var alreadyPaid: Message
    public var expired: Message
    /// `/status` replies by phase; `none` is for users without state.
    public var status: [String: String]
    /// The reply to any other text; `nil` replies nothing.
    public var help: String?
    /// The one polite reply when a user exceeds the inbound limit.
    public var rateLimited: String

    /// The callback data of the "Get access" button.
    public static let getAccessData = "get_access"

    /// The callback data of an offer's button.
    public static func topicData(_ id: String) -> String { "topic:\(id)" }

    /// The offer a button's callback data names (`topic:<id>`), if it names one.
    public static func topicID(ofData data: String?) -> String? {
        guard let data, data.hasPrefix("topic:") else { return nil }
        return String(data.dropFirst(6))
    }

    /// The user picks an offer after `/start`: two or more are listed.
    public var choosesTopic: Bool { topics.count > 1 }

    /// The offer `id` names; with a single offer, that one whatever `id` says.
    public func topic(_ id: String?) -> Topic? {
        if topics.count == 1 { return topics[0] }
        guard let id else { return nil }
        return topics.first { $0.id == id }
    }

    /// The flow for the offer `id`: the offer's own values over the flow's.
    public func offer(_ id: String?) -> FlowDefinition {
        guard let topic = topic(id) else { return self }
        var flow = self
        if let url = topic.paymentURL { flow.paymentURL = url }
        if let m = topic.payment { flow.payment = m }
        if let r = topic.reminders { flow.reminders = r }
        if let r = topic.renewalReminders { flow.renewalReminders = r }
        if let m = topic.paid { flow.paid = m }
        return flow
    }

    /// The built-in flow.
    public static let defaults = FlowDefinition(
        welcome: Message(
            text: "Hi {first_name}! This bot gives access to the private club. Press the button below to get access."),
        getAccessButton: "Get access",
        getAccessAnswer: nil,
        paymentURL: "https://pay.example.com/checkout?telegram_id={user_id}&record={record_id}",
        payment: Message(
            text: "To join, complete the payment here: {payment_url}\nI will write to you as soon as it arrives."),
        payButton: "Pay",
        watchFor: .seconds(48 * 3600),
        reminders: [
            Reminder(
                step: "reminder", delay: .seconds(300),
                message: Message(text: "Still thinking? Your place in the club is waiting: {payment_url}"))
        ],
        renewalReminders: [
            Reminder(
                step: "renew-3d", delay: .seconds(3 * 86400),
                message: Message(text: "Your access to the club ends on {access_until}. Renew here to stay: {payment_url}")),
            Reminder(
                step: "renew-1d", delay: .seconds(86400),
                message: Message(text: "Your access to the club ends tomorrow ({access_until}). Renew here: {payment_url}")),
        ],
        lapsed: Message(text: "Your access to the club has ended. To come back, renew here: {payment_url}"),
        renewed: Message(text: "Thank you — your access to the club is renewed until {access_until}."),
        reinvite: Message(text: "Your access to the club is active, but you are not inside yet. Here is your personal link: {invite_link}"),
        paid: Message(text: "Payment received — welcome to the club! Here is your invite link: {invite_link}"),
        inviteLink: "https://t.me/+club-invite",
        alreadyPaid: Message(text: "You already have access. Your invite link: {invite_link}"),
        expired: Message(text: "Your payment link has expired. Send /start to begin again."),
        status: [
            "none": "You have not started yet. Send /start.",
            "idle": "You have not requested access yet. Send /start and press \"Get access\".",
            "topic_selected": "You have chosen a topic. Press \"Get access\" to continue.",
            "awaiting_payment": "We are waiting for your payment: {payment_url}",
            "paid": "You have access. Your invite link: {invite_link}",
        ],
        help: "Send /start to begin or /status to see where you are.",
        rateLimited: "You are sending messages too fast. Please wait a minute — I will read your next ones."
    )
}
