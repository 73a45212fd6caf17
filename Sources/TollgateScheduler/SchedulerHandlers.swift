import TollgateIPC
import TollgateJobs
import TollgateRuntime

/// The poller's job requests on the IPC socket: `schedule`, `cancel`, `user_jobs`
/// (Protocols/scheduler.md). Any instance answers; the jobs live in Redis.
public enum SchedulerHandlers {
    /// Registers the handlers on `host`, served by `store` (on the host's Redis pool).
    public static func register(on host: ServiceHost, store: JobStore) {
        host.register(Schedule.self) { request, _ in
            let outcome = try await call { () throws(JobStoreError) in try await store.schedule(JobSpec(request)) }
            return Schedule.Reply(jobID: outcome.jobID, created: outcome.created, dueAtMs: outcome.dueAtMs)
        }
        host.register(Cancel.self) { request, _ in
            let n: Int
            if let id = request.jobID {
                n = try await call { () throws(JobStoreError) in try await store.cancel(jobID: id) }
            } else {
                let user = request.userID ?? 0
                n = try await call { () throws(JobStoreError) in try await store.cancel(userID: user, kind: request.kind) }
            }
            return Cancel.Reply(cancelled: n)
        }
        host.register(UserJobs.self) { request, _ in
            UserJobs.Reply(jobs: try await call { () throws(JobStoreError) in try await store.jobs(ofUser: request.userID) })
        }
    }

    /// Maps store failures to protocol errors: invalid specs to `invalid_request`, Redis trouble to
    /// `unavailable` (retryable), anything else to `internal`.
    static func call<T>(_ body: () async throws(JobStoreError) -> T) async throws(IPCError) -> T {
        do {
            return try await body()
        } catch {
            switch error.code {
            case .invalidJob: throw IPCError(.invalidRequest, error.message)
            case .unavailable: throw IPCError(.unavailable, "redis: \(error.message)", retryAfterMs: 500)
            case .unexpectedReply: throw IPCError(.internal, error.message)
            }
        }
    }
}
