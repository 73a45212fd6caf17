import Testing
import TollgateIPC
import TollgateRedis
import TollgateTestKit

@testable import TollgatePayments

/// The watch list's scripts against a real Redis.
@Suite struct PaymentWatchStoreTests {
    @Test func watchIsIdempotentPerUserAndRefreshesReferenceAndExpiry() async throws {
        let redis = try RedisServer()
        let store = PaymentWatchStore(
            redis: .client(RedisClient(url: try RedisURL(redis.url), name: "s", logger: quietLogger)), keys: .init(prefix: "p"))
        let handlers = PaymentWatchHandlers(store: store, defaultExpiry: .seconds(48 * 3600), firstCheckDelay: .seconds(60))
        let first = try await handlers.watch(WatchPayment(userID: 42, chatID: 4200, telegramID: "4242"))
        #expect(first.created)
        let before = try #require(try await store.load([42]).first)
        #expect(before.telegramID == "4242" && before.recordID == nil && before.chatID == 4200)
        #expect(first.expiresAtMs - before.createdMs == 48 * 3_600_000)

        let again = try await handlers.watch(WatchPayment(userID: 42, chatID: 4200, recordID: 7, expiresInMs: 60_000))
        #expect(!again.created)
        let after = try #require(try await store.load([42]).first)
        #expect(after.watchID == before.watchID && after.createdMs == before.createdMs)
        #expect(after.recordID == 7 && after.telegramID == nil)
        #expect(after.expiresMs == again.expiresAtMs && again.expiresAtMs < first.expiresAtMs)
        // The indexes follow the reference.
        #expect(try await store.users(records: [7], telegramIDs: ["4242"]) == [42])
        #expect(try await store.users(records: [], telegramIDs: ["4242"]).isEmpty)

        #expect(try await store.count() == 1)
        #expect(try await handlers.unwatch(UnwatchPayment(userID: 42)).removed)
        #expect(try await !handlers.unwatch(UnwatchPayment(userID: 42)).removed)
        #expect(try await store.count() == 0)
        #expect(try await store.users(records: [7], telegramIDs: []).isEmpty)
        #expect(try await store.load([42]).isEmpty)
    }

    @Test func dueSetAndChecksFollowTheServerClock() async throws {
        let redis = try RedisServer()
        let store = PaymentWatchStore(
            redis: .client(RedisClient(url: try RedisURL(redis.url), name: "s", logger: quietLogger)), keys: .init(prefix: "p"))
        _ = try await store.watch(WatchPayment(userID: 1, chatID: 1, recordID: 11), defaultExpiry: .seconds(3600), firstCheckDelay: .zero)
        _ = try await store.watch(WatchPayment(userID: 2, chatID: 2, recordID: 22), defaultExpiry: .seconds(3600), firstCheckDelay: .seconds(60))
        _ = try await store.watch(
            WatchPayment(userID: 3, chatID: 3, recordID: 33, expiresInMs: 1000), defaultExpiry: .seconds(3600),
            firstCheckDelay: .seconds(60))
        var set = try await store.dueSet(limit: 100)
        #expect(set.due == [1] && set.expired.isEmpty && set.active == 3)
        let one = try #require(try await store.load([1]).first)
        try await store.markChecked([one]) { _ in .seconds(30) }
        let checked = try #require(try await store.load([1]).first)
        #expect(checked.checks == 1 && checked.checkedMs >= one.createdMs)
        try await Task.sleep(for: .milliseconds(1100))
        set = try await store.dueSet(limit: 100)
        #expect(set.due.isEmpty && set.expired == [3])
        // A stale watch id removes nothing: the user re-watched meanwhile.
        #expect(try await !store.unwatch(userID: 3, watchID: 999))
        #expect(try await store.unwatch(userID: 3, watchID: try #require(try await store.load([3]).first).watchID))
        try await store.makeAllDue()
        set = try await store.dueSet(limit: 100)
        #expect(Set(set.due) == [1, 2])
    }
}
