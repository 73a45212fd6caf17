import Dispatch
import Logging
import NIOCore
import NIOEmbedded
import TollgateIPC

/// The IPC path of both services: frames off a socket, then the router.
enum IPCHarness {
    static let maxFrameBytes = 4096

    static func frames(_ data: [UInt8]) {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(IPCFrameDecoder(maxFrameBytes: maxFrameBytes)))
        var payloads: [[UInt8]] = []
        var refused = false
        // Fed in two pieces, as a socket may deliver them: the decoder must not depend on chunking.
        let cut = data.isEmpty ? 0 : Int(data[0]) % (data.count + 1)
        for piece in [Array(data[..<cut]), Array(data[cut...])] where !piece.isEmpty {
            do {
                try channel.writeInbound(channel.allocator.buffer(bytes: piece))
            } catch {
                refused = true
                break
            }
        }
        while let frame = try? channel.readInbound(as: IPCInboundFrame.self) {
            switch frame {
            case .frame(let buffer):
                precondition(buffer.readableBytes <= maxFrameBytes, "a frame over the limit was passed on")
                payloads.append(Array(buffer.readableBytesView))
            case .oversized(let declared, let limit):
                precondition(Int(declared) > limit, "a frame within the limit was refused as oversized")
                refused = true
            }
        }
        _ = try? channel.finish(acceptAlreadyClosed: true)
        _ = refused
        for payload in payloads.prefix(4) { router(payload) }
    }

    /// The router with a handler for every request type, each answering like its service would.
    static let routerUnderTest: IPCRouter = {
        var router = IPCRouter()
        router.register(Schedule.self) { r, _ in Schedule.Reply(jobID: r.jobID ?? "j", created: true, dueAtMs: r.dueAtMs ?? 0) }
        router.register(Cancel.self) { _, _ in Cancel.Reply(cancelled: 0) }
        router.register(UserJobs.self) { _, _ in UserJobs.Reply(jobs: []) }
        router.register(WatchPayment.self) { _, _ in WatchPayment.Reply(created: true, expiresAtMs: 0) }
        router.register(UnwatchPayment.self) { _, _ in UnwatchPayment.Reply(removed: false) }
        router.register(ClubStatus.self) { _, _ in
            ClubStatus.Reply(
                chats: [-1], mode: "invite_link", periods: "none", known: 0, entitled: 0, members: 0, insideUnentitled: 0,
                strandedPayers: 0, lastReconcile: nil, nextReconcileAtMs: nil)
        }
        router.register(ClubGrant.self) { r, _ in
            precondition(r.userID > 0 && !(r.untilMs != nil && r.periodMs != nil), "an invalid grant reached its handler")
            return ClubGrant.Reply(member: ClubMember(userID: r.userID, entitled: true), links: [])
        }
        router.register(ClubRevoke.self) { r, _ in
            precondition(r.userID > 0, "an invalid revoke reached its handler")
            return ClubRevoke.Reply(member: ClubMember(userID: r.userID, entitled: false), removedFrom: 0)
        }
        router.register(ClubReconcile.self) { r, _ in ReconcileReport(trigger: "request", dryRun: r.dryRun ?? false, startedAtMs: 0) }
        let summary = BroadcastSummary(
            id: "c", state: "running", text: "", total: 0, queued: 0, leased: 0, sent: 0, suppressed: 0, uncertain: 0, failed: [:], dropped: 0,
            createdAtMs: 0)
        router.register(BroadcastCreate.self) { _, _ in BroadcastCreate.Reply(id: "c", created: true, audience: 0) }
        router.register(BroadcastAdd.self) { r, _ in BroadcastAdd.Reply(added: r.userIDs.count) }
        router.register(BroadcastSeal.self) { _, _ in summary }
        router.register(BroadcastList.self) { _, _ in BroadcastList.Reply(campaigns: [summary]) }
        router.register(BroadcastShow.self) { _, _ in summary }
        router.register(BroadcastControl.self) { _, _ in summary }
        router.register(Deliver.self) { request, _ in
            Deliver.Reply(
                results: request.deliveries.map { d in
                    do throws(IPCError) {
                        _ = try DueWork(kind: d.kind, payload: d.payload)
                        return DeliveryResult(jobID: d.jobID, outcome: .delivered)
                    } catch {
                        return DeliveryResult(jobID: d.jobID, outcome: .failed, detail: error.message)
                    }
                })
        }
        return router
    }()

    static let logger = Logger(label: "fuzz") { _ in SwiftLogNoOpLogHandler() }

    static func router(_ payload: [UInt8]) {
        let reply = Blocking.run { await routerUnderTest.respond(to: payload, connection: 1, logger: logger) }
        // Every reply is one JSON object saying ok or error, whatever came in.
        guard case .object(let object)? = try? IPCCoding.decode(JSONValue.self, from: reply.bytes) else {
            preconditionFailure("the router answered something that is not a JSON object")
        }
        let type = object["type"]
        precondition(type == .string(reply.isError ? "error" : "ok"), "reply type \(String(describing: type))")
    }
}

/// Runs async work to completion from the fuzzer's (synchronous) thread.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        Task {
            box.value = await body()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    private final class ResultBox<T>: @unchecked Sendable {
        var value: T?
    }
}
