import Foundation
import Testing
import TollgateIPC
import TollgateTestKit

/// Every golden frame through the IPC codec: read back and written again, it gives the same bytes,
/// both as a JSONValue tree and as the message type it holds.
@Suite struct CodecGoldenFrameTests {
    let golden = try! GoldenFrames()

    /// The message type of each good golden frame, as a decode-and-re-encode step.
    static func typed(_ name: String) -> (([UInt8]) throws -> [UInt8])? {
        switch name {
        case "hello.request": { try reencode(IPCRequestEnvelope<Hello>.self, $0) }
        case "hello.reply": { try reencode(IPCOkEnvelope<Hello.Reply>.self, $0) }
        case "health.request": { try reencode(IPCRequestEnvelope<Health>.self, $0) }
        case "health.reply": { try reencode(IPCOkEnvelope<Health.Reply>.self, $0) }
        case "stats.request": { try reencode(IPCRequestEnvelope<Stats>.self, $0) }
        case "stats.reply": { try reencode(IPCOkEnvelope<Stats.Reply>.self, $0) }
        case "error.unknown-type", "error.rate-limited": { try reencode(IPCErrorEnvelope.self, $0) }
        case "deliver.request": { try reencode(IPCRequestEnvelope<Deliver>.self, $0) }
        case "deliver.reply": { try reencode(IPCOkEnvelope<Deliver.Reply>.self, $0) }
        case "schedule.request", "schedule.access-lapse.request", "schedule.access-reminder.request": {
            try reencode(IPCRequestEnvelope<Schedule>.self, $0)
        }
        case "schedule.reply": { try reencode(IPCOkEnvelope<Schedule.Reply>.self, $0) }
        case "cancel.request": { try reencode(IPCRequestEnvelope<Cancel>.self, $0) }
        case "cancel.reply": { try reencode(IPCOkEnvelope<Cancel.Reply>.self, $0) }
        case "user_jobs.request": { try reencode(IPCRequestEnvelope<UserJobs>.self, $0) }
        case "user_jobs.reply": { try reencode(IPCOkEnvelope<UserJobs.Reply>.self, $0) }
        case "watch_payment.request": { try reencode(IPCRequestEnvelope<WatchPayment>.self, $0) }
        case "watch_payment.reply": { try reencode(IPCOkEnvelope<WatchPayment.Reply>.self, $0) }
        case "unwatch_payment.request": { try reencode(IPCRequestEnvelope<UnwatchPayment>.self, $0) }
        case "unwatch_payment.reply": { try reencode(IPCOkEnvelope<UnwatchPayment.Reply>.self, $0) }
        case "club_status.request": { try reencode(IPCRequestEnvelope<ClubStatus>.self, $0) }
        case "club_status.reply": { try reencode(IPCOkEnvelope<ClubStatus.Reply>.self, $0) }
        case "club_grant.request", "club_grant.offer.request": { try reencode(IPCRequestEnvelope<ClubGrant>.self, $0) }
        case "club_grant.reply", "club_grant.offer.reply": { try reencode(IPCOkEnvelope<ClubGrant.Reply>.self, $0) }
        case "club_revoke.request": { try reencode(IPCRequestEnvelope<ClubRevoke>.self, $0) }
        case "club_revoke.reply": { try reencode(IPCOkEnvelope<ClubRevoke.Reply>.self, $0) }
        case "club_reconcile.request": { try reencode(IPCRequestEnvelope<ClubReconcile>.self, $0) }
        case "club_reconcile.reply": { try reencode(IPCOkEnvelope<ClubReconcile.Reply>.self, $0) }
        case "broadcast_create.request", "broadcast_create-media.request": { try reencode(IPCRequestEnvelope<BroadcastCreate>.self, $0) }
        case "broadcast_create.reply": { try reencode(IPCOkEnvelope<BroadcastCreate.Reply>.self, $0) }
        case "broadcast_add.request": { try reencode(IPCRequestEnvelope<BroadcastAdd>.self, $0) }
        case "broadcast_add.reply": { try reencode(IPCOkEnvelope<BroadcastAdd.Reply>.self, $0) }
        case "broadcast_seal.request": { try reencode(IPCRequestEnvelope<BroadcastSeal>.self, $0) }
        case "broadcast_list.request": { try reencode(IPCRequestEnvelope<BroadcastList>.self, $0) }
        case "broadcast_list.reply": { try reencode(IPCOkEnvelope<BroadcastList.Reply>.self, $0) }
        case "broadcast_show.request": { try reencode(IPCRequestEnvelope<BroadcastShow>.self, $0) }
        case "broadcast_control.request": { try reencode(IPCRequestEnvelope<BroadcastControl>.self, $0) }
        case "broadcast_seal.reply", "broadcast_show.reply", "broadcast_control.reply": {
            try reencode(IPCOkEnvelope<BroadcastSummary>.self, $0)
        }
        default: nil
        }
    }

    static func reencode<T: Codable & Equatable>(_: T.Type, _ payload: [UInt8]) throws -> [UInt8] {
        let value = try IPCCoding.decode(T.self, from: payload)
        #expect(try Reference.decode(T.self, payload) == value, "the codec and Foundation read different values")
        return try IPCCoding.encode(value)
    }

    var goodFrames: [String] {
        golden.entries.map(\.name).filter { !$0.hasPrefix("bad.") }
    }

    @Test func everyGoodFrameHasATypedRoundTrip() {
        #expect(goodFrames.count >= 20)
        for name in goodFrames { #expect(Self.typed(name) != nil, "\(name) has no typed round trip here") }
    }

    @Test func everyGoodFrameReencodesToTheSameBytesAsItsType() throws {
        for name in goodFrames {
            let payload = try golden.payload(name)
            guard let step = Self.typed(name) else { continue }
            #expect(try step(payload) == payload, "\(name)")
        }
    }

    @Test func everyGoodFrameReencodesToTheSameBytesAsAJSONValue() throws {
        for name in goodFrames {
            let payload = try golden.payload(name)
            let tree = try IPCCoding.decode(JSONValue.self, from: payload)
            #expect(tree == golden.entry(name)?.message, "\(name): differs from the manifest")
            #expect(try IPCCoding.encode(tree) == payload, "\(name)")
            var frame = try IPCCoding.frame(tree)
            #expect(frame == (try golden.frame(name)), "\(name): whole frame")
            frame.removeFirst(4)
            #expect(frame == payload)
        }
    }

    /// The bad frames that are JSON objects still parse; the others are refused as Foundation
    /// refused them (no bad golden frame is one that only the strict parser refuses).
    @Test func badFramesParseAsBeforeWithTheCodec() throws {
        for entry in golden.entries where entry.name.hasPrefix("bad.") && entry.expect?.truncated != true {
            let payload = try golden.payload(entry.name)
            let ours = Result { try IPCCoding.decode(JSONValue.self, from: payload) }
            let foundation = Result { try Reference.decode(JSONValue.self, payload) }
            switch (ours, foundation) {
            case (.success(let a), .success(let b)):
                #expect(a == b, "\(entry.name)")
                #expect(try IPCCoding.encode(a) == Reference.encode(b), "\(entry.name)")
            case (.failure, .failure): break
            default: Issue.record("\(entry.name): codec \(ours), Foundation \(foundation)")
            }
        }
    }
}
