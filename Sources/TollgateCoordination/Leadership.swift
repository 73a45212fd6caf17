/// One term of leadership: who leads, and the fencing token of the term.
///
/// Tokens grow strictly from term to term (across every process sharing the Redis), so a write
/// stamped with a token can be refused once a newer term exists.
public struct LeaderTerm: Sendable, Hashable, Codable, CustomStringConvertible {
    public let holder: String
    public let token: Int64

    public init(holder: String, token: Int64) {
        self.holder = holder
        self.token = token
    }

    public var description: String { "\(holder)#\(token)" }
}

/// What leader-only work needs to know about leadership (implemented by the leader election
/// service of poller-scheduler).
public protocol Leadership: Sendable {
    /// This process's term while it leads *and can still prove it* (its lock renewal has not lapsed);
    /// `nil` otherwise.
    var currentTerm: LeaderTerm? { get }

    /// Emits the current value at once, then every change: a term when this process becomes
    /// leader, `nil` when it stops.
    func changes() -> AsyncStream<LeaderTerm?>
}

extension Leadership {
    /// Runs `work` for every term this process leads, cancelling it as soon as leadership is lost;
    /// returns when the calling task is cancelled or `changes()` ends.
    ///
    /// `work` must honour cancellation promptly: it is how "stop leader work as soon as the lock
    /// cannot be proven" is carried out.
    public func whileLeading(_ work: @escaping @Sendable (LeaderTerm) async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            for await term in changes() {
                // At most one term's work at a time: the previous one is cancelled and awaited first.
                group.cancelAll()
                await group.waitForAll()
                if let term { group.addTask { await work(term) } }
            }
            group.cancelAll()
        }
    }
}
