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

    /// Returns once ``currentTerm`` differs from `term` (at once if it already does), or when the
    /// calling task is cancelled.
    func waitForChange(from term: LeaderTerm?) async
}

extension Leadership {
    /// Runs `work` for every term this process leads, cancelling it as soon as leadership is lost
    /// (or passes to a newer term); returns when the calling task is cancelled.
    ///
    /// `work` must honour cancellation promptly: it is how "stop leader work as soon as the lock
    /// cannot be proven" is carried out. It may also return early; the next term starts it again.
    public func whileLeading(_ work: @escaping @Sendable (LeaderTerm) async -> Void) async {
        while !Task.isCancelled {
            guard let term = currentTerm else {
                await waitForChange(from: nil)
                continue
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await work(term) }
                await waitForChange(from: term)
                group.cancelAll()
            }
        }
    }
}
