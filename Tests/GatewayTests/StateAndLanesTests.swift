import Synchronization
import Testing
import TollgateCore
import TollgateGateway
import TollgateIPC
import TollgateRedis
import TollgateSimulators
import TollgateTelegram
import TollgateTestKit

@Suite("User state, chat lanes, media reminders", .timeLimit(.minutes(2)))
struct StateAndLanesTests {
    @Test("Transitions are compare-and-set, versioned, carry metadata and refresh the TTL")
    func transitions() async throws {
        let server = try RedisServer()
        let pool = RedisClientPool(url: try RedisURL(server.url), name: "state", size: 2, logger: quietLogger)
        let store = UserStateStore(redis: pool, keys: KeySpace(prefix: "s"), ttl: .seconds(100))
        let none = try await store.state(of: 1)
        #expect(none == nil)
        let first = try await store.transition(1, to: .idle, from: [nil], metadata: ["first_name": "Ana"])
        #expect(first == .moved(from: nil, version: 1))
        let again = try await store.transition(1, to: .idle, from: [nil])
        #expect(again == .alreadyThere(version: 1))
        let refused = try await store.transition(1, to: .paid, from: [.awaitingPayment])
        #expect(refused == .refused(current: .idle))
        let moved = try await store.transition(1, to: .awaitingPayment, from: [.idle], metadata: ["record_id": "9"])
        #expect(moved == .moved(from: .idle, version: 2))
        let state = try #require(try await store.state(of: 1))
        #expect(state.phase == .awaitingPayment)
        #expect(state.version == 2)
        #expect(state.metadata == ["first_name": "Ana", "record_id": "9"])
        #expect(state.updatedAtMs > 1_700_000_000_000)
        let ttl = try await pool.next().send("PTTL", "s:gw:user:1").int ?? -1
        #expect(ttl > 90_000 && ttl <= 100_000)
        #expect(try await store.has(1, phase: .awaitingPayment))
        // Many concurrent transitions from the same phase: exactly one wins.
        let winners = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    if case .moved? = try? await store.transition(1, to: .paid, from: [.awaitingPayment]) { return true }
                    return false
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
        await pool.close()
    }

    @Test("Chat lanes: one chat's items strictly in order and one at a time; others in parallel")
    func lanes() async {
        let lanes = ChatLanesProbe()
        let seen = await lanes.run(chats: 8, perChat: 25, workers: 6)
        for chat in 0..<8 { #expect(seen.order[chat] == Array(0..<25), "chat \(chat)") }
        #expect(seen.maxConcurrentPerChat == 1)
        #expect(seen.maxConcurrent > 1)
    }

    @Test("A reminder with a video from the flow file is uploaded once for every user")
    func videoReminderUploadedOnce() async throws {
        var flow = FlowDefinition.defaults
        let video = FileUpload(filename: "r.mp4", contentType: "video/mp4", bytes: Array(repeating: 3, count: 20_000))
        flow.reminders = [
            .init(step: "video", delay: .seconds(300), message: .init(text: "Watch this", media: .init(kind: .video, file: .upload(video))))
        ]
        try await withGateway(flow: flow, startPolling: false) { gw in
            let users = (1...5).map { SimUser(id: Int64(9500 + $0)) }
            gw.simulator.addUsers(users)
            for user in users {
                _ = try await gw.states.transition(user.id, to: .awaitingPayment, from: [nil])
            }
            let reply = await gw.deliver.handle(
                Deliver(deliveries: users.map { gw.delivery("rem-\($0.id)", "reminder", user: $0.id, payload: ["step": .string("video")]) }))
            #expect(reply.results.allSatisfy { $0.outcome == .delivered })
            #expect(gw.simulator.counters.uploads == 1)
            for user in users {
                #expect(gw.simulator.sent(to: user.id).first?.mediaKind == "video")
                #expect(gw.simulator.sent(to: user.id).first?.caption == "Watch this")
            }
        }
    }
}
