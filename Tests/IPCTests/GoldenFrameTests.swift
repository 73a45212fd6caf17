import Foundation
import Testing
import TollgateIPC
import TollgateTestKit

/// The golden frames are the contract: the Swift types must produce them byte for byte and read
/// them back to the same values, and the schemas must accept them (and reject the bad ones).
@Suite struct GoldenFrameTests {
    let golden: GoldenFrames
    let validator: JSONSchemaValidator

    init() throws {
        golden = try GoldenFrames()
        validator = try JSONSchemaValidator(directory: golden.schemasDirectory)
    }

    @Test func everyGoodMessageMatchesItsSchema() throws {
        let good = golden.entries.filter { $0.schema != nil }
        #expect(good.count >= 8)
        for entry in good {
            let problems = validator.validate(entry.message!, against: entry.schema!)
            #expect(problems.isEmpty, "\(entry.name): \(problems)")
            // The frame on disk holds that very message.
            let onDisk = try JSONDecoder().decode(JSONValue.self, from: Data(golden.payload(entry.name)))
            #expect(onDisk == entry.message, "\(entry.name): frame differs from the manifest")
        }
    }

    @Test func schemasRejectWhatTheServerRejects() throws {
        let rejected = golden.entries.filter { $0.rejectedBy != nil }
        #expect(rejected.count >= 3)
        for entry in rejected {
            #expect(!validator.validate(entry.message!, against: entry.rejectedBy!).isEmpty, "\(entry.name)")
        }
    }

    @Test func frameHeadersCountThePayload() throws {
        for entry in golden.entries where entry.expect == nil || entry.expect?.truncated != true {
            let frame = try golden.frame(entry.name)
            let declared = Int(frame[0]) << 24 | Int(frame[1]) << 16 | Int(frame[2]) << 8 | Int(frame[3])
            if entry.name != "bad.oversized-header" {
                #expect(declared == frame.count - 4, "\(entry.name)")
            }
        }
    }

    /// Encodes `value` and compares it with the golden payload, then decodes the payload back.
    func roundTrip<T: Codable & Equatable>(_ name: String, _ value: T) throws {
        let payload = try golden.payload(name)
        let encoded = try IPCCoding.encode(value)
        #expect(encoded == payload, "\(name): Swift encodes\n\(String(decoding: encoded, as: UTF8.self))\nbut the golden frame is\n\(String(decoding: payload, as: UTF8.self))")
        #expect(try IPCCoding.decode(T.self, from: payload) == value, "\(name)")
        #expect(try IPCCoding.frame(value) == golden.frame(name), "\(name): whole frame")
    }

    @Test func hello() throws {
        try roundTrip(
            "hello.request",
            IPCRequestEnvelope(id: "h-1", type: Hello.type, body: Hello(versions: [1], service: "poller-scheduler", instance: "poller@1")))
        try roundTrip(
            "hello.reply",
            IPCOkEnvelope(
                id: "h-1",
                body: Hello.Reply(
                    version: 1, versions: [1], service: "bot-gateway", instance: "gateway", startedAtMs: 1_795_000_000_000,
                    maxFrameBytes: 1_048_576)))
    }

    @Test func health() throws {
        try roundTrip("health.request", IPCRequestEnvelope(id: "2", type: Health.type, body: Health()))
        try roundTrip(
            "health.reply",
            IPCOkEnvelope(
                id: "2",
                body: Health.Reply(
                    status: .ready, live: true, ready: true, uptimeS: 12.5,
                    checks: ["redis": .init(ok: true, latencyMs: 0.25), "ipc": .init(ok: true)])))
    }

    @Test func stats() throws {
        try roundTrip("stats.request", IPCRequestEnvelope(id: "s:3", type: Stats.type, body: Stats()))
        let follower = Stats.Snapshot(service: "poller-scheduler", instance: "poller@1", uptimeS: 3500, info: ["role": "follower"])
        let me = Stats.Snapshot(
            service: "poller-scheduler", instance: "poller@2", uptimeS: 3600, counters: ["ipc_requests_total": 42],
            gauges: ["ipc_connections_open": 2], info: ["role": "leader"])
        try roundTrip("stats.reply", IPCOkEnvelope(id: "s:3", body: Stats.Reply(me, instances: [follower])))
    }

    @Test func errors() throws {
        try roundTrip("error.unknown-type", IPCErrorEnvelope(id: "u-1", error: IPCError(.unknownType, "unknown message type 'frobnicate'")))
        try roundTrip("error.rate-limited", IPCErrorEnvelope(id: "r-9", error: IPCError(.rateLimited, "try later", retryAfterMs: 1500)))
    }
}

extension IPCRequestEnvelope: Equatable where Body: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.v == b.v && a.id == b.id && a.type == b.type && a.body == b.body }
}
extension IPCOkEnvelope: Equatable where Body: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.v == b.v && a.id == b.id && a.type == b.type && a.body == b.body }
}
extension IPCErrorEnvelope: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.v == b.v && a.id == b.id && a.type == b.type && a.error == b.error }
}

@Suite struct GatewayGoldenFrameTests {
    @Test func deliver() throws {
        let golden = try GoldenFrames()
        let request = IPCRequestEnvelope(
            id: "d-7", type: Deliver.type,
            body: Deliver(deliveries: [
                Delivery(
                    jobID: "reminder:4242:1", epoch: 3, kind: "reminder", userID: 4242, chatID: 4242, attempt: 1,
                    dueAtMs: 1_795_000_300_000, payload: ["step": .string("reminder")]),
                Delivery(
                    jobID: "paid:4243:17", epoch: 3, kind: "payment_confirmed", userID: 4243, chatID: -1_004_243, attempt: 2,
                    dueAtMs: 1_795_000_000_000, payload: ["record_id": .number(17)]),
            ], replyWithinMs: 60_000))
        #expect(try IPCCoding.encode(request) == golden.payload("deliver.request"))
        #expect(try IPCCoding.decode(IPCRequestEnvelope<Deliver>.self, from: golden.payload("deliver.request")) == request)
        let reply = IPCOkEnvelope(
            id: "d-7",
            body: Deliver.Reply(results: [
                DeliveryResult(jobID: "reminder:4242:1", outcome: .delivered),
                DeliveryResult(jobID: "paid:4243:17", outcome: .retry, retryAfterMs: 3000, detail: "telegram flood limit"),
                DeliveryResult(
                    jobID: "message:4244:9", outcome: .retry, retryAfterMs: 1000, detail: "running elsewhere", attempted: false),
            ]))
        #expect(try IPCCoding.encode(reply) == golden.payload("deliver.reply"))
        #expect(try IPCCoding.decode(IPCOkEnvelope<Deliver.Reply>.self, from: golden.payload("deliver.reply")) == reply)
    }

    @Test func theClubsDoor() throws {
        let golden = try GoldenFrames()
        func check<T: Codable & Equatable>(_ name: String, _ value: T) throws {
            #expect(try IPCCoding.encode(value) == golden.payload(name), "\(name)")
            #expect(try IPCCoding.decode(T.self, from: golden.payload(name)) == value, "\(name)")
        }
        var report = ReconcileReport(trigger: "request", dryRun: false, startedAtMs: 1_795_000_000_000)
        report.finishedAtMs = 1_795_000_004_200
        report.scanned = 12
        report.checked = 12
        report.inside = 9
        report.entitled = 10
        report.insideUnentitled = 1
        report.strandedPayers = 2
        report.removed = 1
        report.reinvited = 2
        let member = ClubMember(
            userID: 4242, entitled: true, source: "manual", grantedAtMs: 1_795_000_000_000, expiresAtMs: 1_797_592_000_000,
            membership: ["-1001234": "member"], links: 1)
        var left = member
        left.entitled = false
        left.membership = ["-1001234": "left"]
        left.links = 0
        try check("club_status.request", IPCRequestEnvelope(id: "cs-1", type: ClubStatus.type, body: ClubStatus()))
        try check(
            "club_status.reply",
            IPCOkEnvelope(
                id: "cs-1",
                body: ClubStatus.Reply(
                    chats: [-1_001_234], mode: "invite_link", periods: "period", known: 12, entitled: 10, members: 9,
                    insideUnentitled: 0, strandedPayers: 0, lastReconcile: report, nextReconcileAtMs: 1_795_086_400_000)))
        try check(
            "club_grant.request",
            IPCRequestEnvelope(id: "cg-1", type: ClubGrant.type, body: ClubGrant(userID: 4242, periodMs: 2_592_000_000)))
        try check(
            "club_grant.reply", IPCOkEnvelope(id: "cg-1", body: ClubGrant.Reply(member: member, links: ["https://t.me/+AbCdEf012345"])))
        try check("club_revoke.request", IPCRequestEnvelope(id: "cr-1", type: ClubRevoke.type, body: ClubRevoke(userID: 4242)))
        try check("club_revoke.reply", IPCOkEnvelope(id: "cr-1", body: ClubRevoke.Reply(member: left, removedFrom: 1)))
        try check("club_reconcile.request", IPCRequestEnvelope(id: "cc-1", type: ClubReconcile.type, body: ClubReconcile(dryRun: false)))
        try check("club_reconcile.reply", IPCOkEnvelope(id: "cc-1", body: report))
        var vip = member
        vip.userID = 4243
        vip.membership = [:]
        vip.offer = "vip"
        try check(
            "club_grant.offer.request",
            IPCRequestEnvelope(id: "cg-3", type: ClubGrant.type, body: ClubGrant(userID: 4243, untilMs: 1_797_592_000_000, offer: "vip")))
        try check("club_grant.offer.reply", IPCOkEnvelope(id: "cg-3", body: ClubGrant.Reply(member: vip, links: ["https://t.me/+VipLink0123"])))
    }

    @Test func broadcasts() throws {
        let golden = try GoldenFrames()
        func check<T: Codable & Equatable>(_ name: String, _ value: T) throws {
            #expect(try IPCCoding.encode(value) == golden.payload(name), "\(name)")
            #expect(try IPCCoding.decode(T.self, from: golden.payload(name)) == value, "\(name)")
        }
        let id = "1795000000000-ab12"
        let summary = BroadcastSummary(
            id: id, state: "running", text: "News for {first_name}", total: 3, queued: 1, leased: 1, sent: 1, suppressed: 0, uncertain: 0,
            failed: [:], dropped: 0, createdAtMs: 1_795_000_000_000, firstSentAtMs: 1_795_000_001_000, lastSentAtMs: 1_795_000_001_000)
        try check(
            "broadcast_create.request",
            IPCRequestEnvelope(
                id: "bc-1", type: BroadcastCreate.type,
                body: BroadcastCreate(
                    text: "News for {first_name}", audience: BroadcastAudience(kind: "state", state: "paid"), idempotencyKey: "news-2026-12",
                    onUncertain: "skip")))
        try check("broadcast_create.reply", IPCOkEnvelope(id: "bc-1", body: BroadcastCreate.Reply(id: id, created: true, audience: 3)))
        try check("broadcast_add.request", IPCRequestEnvelope(id: "bc-2", type: BroadcastAdd.type, body: BroadcastAdd(id: id, userIDs: [4242, 4243])))
        try check("broadcast_add.reply", IPCOkEnvelope(id: "bc-2", body: BroadcastAdd.Reply(added: 2)))
        try check("broadcast_seal.request", IPCRequestEnvelope(id: "bc-3", type: BroadcastSeal.type, body: BroadcastSeal(id: id)))
        try check("broadcast_seal.reply", IPCOkEnvelope(id: "bc-3", body: summary))
        try check("broadcast_list.request", IPCRequestEnvelope(id: "bc-4", type: BroadcastList.type, body: BroadcastList()))
        try check("broadcast_list.reply", IPCOkEnvelope(id: "bc-4", body: BroadcastList.Reply(campaigns: [summary])))
        try check("broadcast_show.request", IPCRequestEnvelope(id: "bc-5", type: BroadcastShow.type, body: BroadcastShow(id: id)))
        try check("broadcast_show.reply", IPCOkEnvelope(id: "bc-5", body: summary))
        try check(
            "broadcast_control.request", IPCRequestEnvelope(id: "bc-6", type: BroadcastControl.type, body: BroadcastControl(id: id, action: "pause")))
        var paused = summary
        paused.state = "paused"
        try check("broadcast_control.reply", IPCOkEnvelope(id: "bc-6", body: paused))
    }
}

@Suite struct PollerGoldenFrameTests {
    let golden = try! GoldenFrames()

    func check<T: Codable & Equatable>(_ name: String, _ value: T) throws {
        #expect(try IPCCoding.encode(value) == golden.payload(name), "\(name)")
        #expect(try IPCCoding.decode(T.self, from: golden.payload(name)) == value, "\(name)")
    }

    @Test func scheduling() throws {
        try check(
            "schedule.request",
            IPCRequestEnvelope(
                id: "sc-1", type: Schedule.type,
                body: Schedule(
                    jobID: "reminder:4242:1", kind: "reminder", userID: 4242, chatID: 4242, delayMs: 300_000,
                    payload: ["step": .string("reminder")], maxAttempts: 10)))
        try check("schedule.reply", IPCOkEnvelope(id: "sc-1", body: Schedule.Reply(jobID: "reminder:4242:1", created: true, dueAtMs: 1_795_000_300_000)))
        try check("cancel.request", IPCRequestEnvelope(id: "cn-1", type: Cancel.type, body: Cancel(userID: 4242, kind: "reminder")))
        try check("cancel.reply", IPCOkEnvelope(id: "cn-1", body: Cancel.Reply(cancelled: 1)))
        try check("user_jobs.request", IPCRequestEnvelope(id: "uj-1", type: UserJobs.type, body: UserJobs(userID: 4242)))
        try check(
            "user_jobs.reply",
            IPCOkEnvelope(
                id: "uj-1",
                body: UserJobs.Reply(jobs: [
                    UserJobs.Job(
                        jobID: "reminder:4242:1", kind: "reminder", chatID: 4242, dueAtMs: 1_795_000_300_000, attempts: 0,
                        state: .scheduled, payload: ["step": .string("reminder")])
                ])))
    }

    @Test func paymentWatching() throws {
        try check(
            "watch_payment.request",
            IPCRequestEnvelope(
                id: "w-1", type: WatchPayment.type,
                body: WatchPayment(userID: 4242, chatID: 4242, recordID: 17, expiresInMs: 172_800_000, notifyExpired: true)))
        try check("watch_payment.reply", IPCOkEnvelope(id: "w-1", body: WatchPayment.Reply(created: true, expiresAtMs: 1_795_172_800_000)))
        try check("unwatch_payment.request", IPCRequestEnvelope(id: "w-2", type: UnwatchPayment.type, body: UnwatchPayment(userID: 4242)))
        try check("unwatch_payment.reply", IPCOkEnvelope(id: "w-2", body: UnwatchPayment.Reply(removed: true)))
    }

    /// Service-specific bad frames are refused with the expected code by a router that knows the
    /// types (the services' own tests check the same frames against the real handlers).
    @Test func validationRulesMatchTheGoldenBadFrames() async throws {
        var router = IPCRouter()
        router.register(Schedule.self) { _, _ in Schedule.Reply(jobID: "x", created: true, dueAtMs: 0) }
        router.register(WatchPayment.self) { _, _ in WatchPayment.Reply(created: true, expiresAtMs: 0) }
        router.register(Deliver.self) { _, _ in Deliver.Reply(results: []) }
        router.register(ClubGrant.self) { request, _ in ClubGrant.Reply(member: ClubMember(userID: request.userID, entitled: true), links: []) }
        router.register(ClubRevoke.self) { request, _ in ClubRevoke.Reply(member: ClubMember(userID: request.userID, entitled: false), removedFrom: 0) }
        router.register(BroadcastCreate.self) { _, _ in BroadcastCreate.Reply(id: "x", created: true, audience: 0) }
        router.register(BroadcastAdd.self) { request, _ in BroadcastAdd.Reply(added: request.userIDs.count) }
        let entries = golden.badFrames(for: "poller-scheduler") + golden.badFrames(for: "bot-gateway")
        #expect(entries.count >= 4)
        for entry in entries {
            let reply = await router.respond(to: try golden.payload(entry.name), connection: 1, logger: .init(label: "t"))
            let error = try IPCCoding.decode(IPCErrorEnvelope.self, from: reply.bytes)
            #expect(error.error.code.rawValue == entry.expect?.error, "\(entry.name)")
            if let fragment = entry.expect?.messageContains {
                #expect(error.error.message.contains(fragment), "\(entry.name): \(error.error.message)")
            }
        }
    }
}
