import Foundation
import Logging
import TollgateCore
import TollgateRedis

/// One runner per unit of work, across every gateway process: before a unit (an update, a
/// delivered job — its journal scope) runs, its claim is taken in Redis (`<prefix>:gw:run:<scope>`,
/// `SET NX PX`), renewed while it runs and released when it ends. A crashed runner's claim expires
/// after ``ttl``. A second delivery of a unit that is running — a job redelivered after the
/// poller's `DELIVER_TIMEOUT`, a lease that expired under a frozen poller, an update read by two
/// gateways — finds the claim taken and is answered "retry later": it is neither run twice nor
/// lost.
public struct RunClaims: Sendable {
    let redis: RedisClientPool
    let keys: KeySpace
    /// How long a claim outlives its last renewal (a crashed runner's units wait this long).
    public let ttl: Duration
    let logger: Logger

    public init(redis: RedisClientPool, keys: KeySpace, ttl: Duration = .seconds(15), logger: Logger) {
        self.redis = redis
        self.keys = keys
        self.ttl = max(ttl, .seconds(1))
        self.logger = logger
    }

    func key(_ scope: String) -> String { keys("gw", "run", scope) }

    /// Runs `body` holding the claim on `scope`; `nil` without running it when another runner
    /// holds the claim.
    ///
    /// - Throws: `RedisError` when the claim cannot be taken (nothing ran), or what `body` throws.
    public func whileHolding<T: Sendable>(
        _ scope: String, _ body: () async throws -> T
    ) async throws -> T? {
        let token = "\(ProcessInfo.processInfo.processIdentifier):\(UInt64.random(in: 1...UInt64.max))"
        let k = RedisArgument(key(scope))
        let taken = try await redis.next().send("SET", k, RedisArgument(token), "NX", "PX", RedisArgument(ttl.milliseconds))
        guard taken.string == "OK" else { return nil }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await renew(scope, k, token) }
            defer { group.cancelAll() }
            do {
                let result = try await body()
                await release(k, token)
                return result
            } catch {
                await release(k, token)
                throw error
            }
        }
    }

    /// Renews the claim every third of the TTL until cancelled (the run ended) or the claim is lost.
    private func renew(_ scope: String, _ k: RedisArgument, _ token: String) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: ttl / 3)
            if Task.isCancelled { return }
            do throws(RedisError) {
                let reply = try await redis.next().evaluate(
                    OwnedKeyScripts.renew, keys: [k], args: [RedisArgument(token), RedisArgument(ttl.milliseconds)])
                if reply.int != 1 {
                    logger.warning("a unit's run claim was lost while it ran", metadata: ["scope": "\(scope)"])
                    return
                }
            } catch {
                logger.warning("renewing a run claim failed", metadata: ["scope": "\(scope)", "error": "\(error)"])
            }
        }
    }

    private func release(_ key: RedisArgument, _ token: String) async {
        // A claim that cannot be released expires after the TTL: the unit waits that long, no more.
        _ = try? await redis.next().evaluate(OwnedKeyScripts.release, keys: [key], args: [RedisArgument(token)])
    }
}
