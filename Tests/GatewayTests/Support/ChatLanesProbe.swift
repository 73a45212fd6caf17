import Synchronization
@testable import TollgateGateway

/// Drives ``ChatLanes`` with several workers and records order and concurrency.
struct ChatLanesProbe {
    struct Seen: Sendable {
        var order: [Int: [Int]] = [:]
        var active: [Int: Int] = [:]
        var maxConcurrentPerChat = 0
        var running = 0
        var maxConcurrent = 0
    }

    func run(chats: Int, perChat: Int, workers: Int) async -> Seen {
        let lanes = ChatLanes<Int>()
        for i in 0..<perChat {
            for chat in 0..<chats { lanes.enqueue(Int64(chat), i) }
        }
        let seen = Recorder()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    while let (chat, item) = await lanes.next() {
                        seen.state.withLock { s in
                            s.order[Int(chat), default: []].append(item)
                            s.active[Int(chat), default: 0] += 1
                            s.maxConcurrentPerChat = max(s.maxConcurrentPerChat, s.active[Int(chat)]!)
                            s.running += 1
                            s.maxConcurrent = max(s.maxConcurrent, s.running)
                        }
                        try? await Task.sleep(for: .milliseconds(2))
                        seen.state.withLock { s in
                            s.active[Int(chat)]! -= 1
                            s.running -= 1
                        }
                        lanes.done(chat)
                        if lanes.count == 0 { lanes.close() }
                    }
                }
            }
        }
        return seen.state.withLock { $0 }
    }

    final class Recorder: Sendable {
        let state = Mutex(Seen())
    }
}
