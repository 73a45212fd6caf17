import Synchronization

/// Makes concurrent sends of the same new file upload it once: the first caller for a content key
/// uploads, the others wait for the `file_id` it gets and send by id.
final class UploadSingleFlight: Sendable {
    enum Role {
        case leader
        /// Another upload of the same bytes finished with this `file_id` (`nil`: it failed).
        case follower(String?)
    }

    private let flights = Mutex<[String: [CheckedContinuation<String?, Never>]]>([:])

    func join(_ key: String) async -> Role {
        let isLeader = flights.withLock { map -> Bool in
            if map[key] == nil {
                map[key] = []
                return true
            }
            return false
        }
        if isLeader { return .leader }
        let fileID = await withCheckedContinuation { (c: CheckedContinuation<String?, Never>) in
            let finished = flights.withLock { map -> Bool in
                guard map[key] != nil else { return true }
                map[key]!.append(c)
                return false
            }
            if finished { c.resume(returning: nil) }
        }
        return .follower(fileID)
    }

    func finish(_ key: String, fileID: String?) {
        let waiters = flights.withLock { $0.removeValue(forKey: key) ?? [] }
        for waiter in waiters { waiter.resume(returning: fileID) }
    }
}
