import Synchronization

/// Work queued per chat: one chat's items are handed out strictly one at a time in order, items of
/// different chats to as many workers as ask. A worker takes an item with ``next()`` and returns
/// the chat with ``done(_:)``.
final class ChatLanes<Item: Sendable>: Sendable {
    private struct State {
        var queues: [Int64: [Item]] = [:]
        var busy: Set<Int64> = []
        var ready: [Int64] = []
        var readyHead = 0
        var waiters: [CheckedContinuation<(Int64, Item)?, Never>] = []
        var closed = false
        var count = 0

        mutating func popReady() -> (Int64, Item)? {
            guard readyHead < ready.count else { return nil }
            let chat = ready[readyHead]
            readyHead += 1
            if readyHead > 1024 {
                ready.removeFirst(readyHead)
                readyHead = 0
            }
            let item = queues[chat]!.removeFirst()
            if queues[chat]!.isEmpty { queues[chat] = nil }
            busy.insert(chat)
            return (chat, item)
        }
    }
    private let state = Mutex(State())

    /// Items queued or being worked on.
    var count: Int { state.withLock { $0.count } }

    func enqueue(_ chat: Int64, _ item: Item) {
        let resume = state.withLock { s -> (CheckedContinuation<(Int64, Item)?, Never>, (Int64, Item))? in
            s.count += 1
            let wasEmpty = s.queues[chat] == nil
            s.queues[chat, default: []].append(item)
            guard wasEmpty, !s.busy.contains(chat) else { return nil }
            s.ready.append(chat)
            guard !s.waiters.isEmpty else { return nil }
            let waiter = s.waiters.removeFirst()
            return (waiter, s.popReady()!)
        }
        if let (waiter, work) = resume { waiter.resume(returning: work) }
    }

    /// The next item of a chat nobody is working on; `nil` once closed.
    func next() async -> (chat: Int64, item: Item)? {
        await withCheckedContinuation { (c: CheckedContinuation<(Int64, Item)?, Never>) in
            let now = state.withLock { s -> (Int64, Item)?? in
                if let work = s.popReady() { return .some(work) }
                if s.closed { return .some(nil) }
                s.waiters.append(c)
                return nil
            }
            if let now { c.resume(returning: now) }
        }
    }

    /// The worker finished its item of `chat`.
    func done(_ chat: Int64) {
        let resume = state.withLock { s -> (CheckedContinuation<(Int64, Item)?, Never>, (Int64, Item))? in
            s.count -= 1
            s.busy.remove(chat)
            guard s.queues[chat] != nil else { return nil }
            s.ready.append(chat)
            guard !s.waiters.isEmpty else { return nil }
            let waiter = s.waiters.removeFirst()
            return (waiter, s.popReady()!)
        }
        if let (waiter, work) = resume { waiter.resume(returning: work) }
    }

    /// Workers get `nil` from ``next()`` (those waiting at once); queued items stay unhanded.
    func close() {
        let waiters = state.withLock { s -> [CheckedContinuation<(Int64, Item)?, Never>] in
            s.closed = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }
}
