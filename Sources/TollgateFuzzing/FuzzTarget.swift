/// The fuzz harnesses: one per parser that reads bytes from outside a process (a peer's frame or
/// reply, a header, a request, a file, an environment value). Each takes any bytes; a trap, or a
/// broken invariant (checked with `precondition`), is a finding.
///
/// libFuzzer drives them through the `tollgate-fuzz` binary (`scripts/fuzz`); the `FuzzTests`
/// suite runs every committed corpus and regression input through them on every test run.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Bytes on an IPC socket: the length-prefixed frame decoder, then every frame through the router.
    case ipcFrame = "ipc-frame"
    /// One frame payload through the IPC router with handlers for every request type.
    case ipcRouter = "ipc-router"
    /// The JSON parser (IPC codec and the stored-payload reader), against Foundation's.
    case json
    /// A Bot API reply (status from the first byte, body the rest) read as each type the client asks for.
    case telegram
    /// A NocoDB reply read as a page, a row, a count and an error.
    case nocodb
    /// A `Retry-After` header value.
    case retryAfter = "retry-after"
    /// Bytes on the webhook listener: HTTP parsing, then the secret and the update.
    case webhook
    /// A flow file.
    case flow
    /// A `REDIS_URL`.
    case redisURL = "redis-url"
    /// A duration setting.
    case duration
    /// An effect-journal record as read back from Redis (step marks and unit outcomes, both formats).
    case journal
    /// The club's settings (`CLUB_CHAT_ID`, `ACCESS_MODE`, `INVITE_TTL`, `CLUB_ALLOW_LIST`).
    case club
    /// A broadcast's audience file (`--ids-file`) and a broadcast text.
    case broadcast

    /// Runs the harness on `data`.
    public func run(_ data: [UInt8]) {
        switch self {
        case .ipcFrame: IPCHarness.frames(data)
        case .ipcRouter: IPCHarness.router(data)
        case .json: JSONHarness.run(data)
        case .telegram: PeerReplyHarness.telegram(data)
        case .nocodb: PeerReplyHarness.nocodb(data)
        case .retryAfter: PeerReplyHarness.retryAfter(data)
        case .webhook: WebhookHarness.run(data)
        case .flow: ConfigHarness.flow(data)
        case .redisURL: ConfigHarness.redisURL(data)
        case .duration: ConfigHarness.duration(data)
        case .journal: JournalHarness.run(data)
        case .club: ConfigHarness.club(data)
        case .broadcast: ConfigHarness.broadcast(data)
        }
    }
}
