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

    public var welcome: Message
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
