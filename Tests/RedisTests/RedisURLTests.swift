import Testing
import TollgateCore

@testable import TollgateRedis

@Suite struct RedisURLTests {
    @Test func hostOnlyGetsDefaults() throws {
        let url = try RedisURL("redis://localhost")
        #expect(url.endpoint == .tcp(host: "localhost", port: 6379))
        #expect(url.database == 0)
        #expect(url.user == nil)
        #expect(url.password == nil)
        #expect(url.description == "redis://localhost:6379/0")
    }

    @Test func portAndDatabase() throws {
        let url = try RedisURL("redis://10.0.0.7:6380/3")
        #expect(url.endpoint == .tcp(host: "10.0.0.7", port: 6380))
        #expect(url.database == 3)
        #expect(try RedisURL("redis://h:1/").database == 0)
    }

    @Test func passwordOnlyIsRedactedEverywhere() throws {
        let url = try RedisURL("redis://:pw-Alpha-123@cache.internal:6390/2")
        #expect(url.password?.exposedValue == "pw-Alpha-123")
        #expect(url.user == nil)
        #expect(url.description == "redis://:<redacted>@cache.internal:6390/2")
        #expect(!"\(url)".contains("pw-Alpha-123"))
        #expect(!String(reflecting: url).contains("pw-Alpha-123"))
        #expect(Redactor.shared.redact("REDIS_URL=redis://:pw-Alpha-123@x") == "REDIS_URL=redis://:<redacted>@x")
    }

    @Test func aclUserAndPercentEncodedPassword() throws {
        let url = try RedisURL("redis://svc%2Dgw:p%40ss%3Aword-9@[::1]:7000/1")
        #expect(url.user == "svc-gw")
        #expect(url.password?.exposedValue == "p@ss:word-9")
        #expect(url.endpoint == .tcp(host: "::1", port: 7000))
        #expect(url.description == "redis://svc-gw:<redacted>@[::1]:7000/1")
        #expect(url.address == "[::1]:7000")
    }

    @Test func unencodedAtSignInPasswordStillParses() throws {
        let url = try RedisURL("redis://:a@b/c-secret@host:6379/0")
        #expect(url.password?.exposedValue == "a@b/c-secret")
        #expect(url.endpoint == .tcp(host: "host", port: 6379))
    }

    @Test(arguments: [
        "unix:///run/redis/redis.sock", "unix:/run/redis/redis.sock", "redis+unix:///run/redis/redis.sock",
        "redis+unix:/run/redis/redis.sock", "UNIX:///run/redis/redis.sock",
    ])
    func unixForms(_ text: String) throws {
        let url = try RedisURL(text)
        #expect(url.endpoint == .unix(path: "/run/redis/redis.sock"))
        #expect(url.database == 0)
    }

    @Test func unixWithQuery() throws {
        let url = try RedisURL("unix:///tmp/r.sock?db=4&password=sock%26pass-77&user=worker")
        #expect(url.endpoint == .unix(path: "/tmp/r.sock"))
        #expect(url.database == 4)
        #expect(url.user == "worker")
        #expect(url.password?.exposedValue == "sock&pass-77")
        #expect(url.description == "unix:///tmp/r.sock?db=4&user=worker&password=<redacted>")
    }

    @Test(arguments: [
        ("", "empty"),
        ("http://localhost:6379", "expected redis://"),
        ("rediss://localhost", "TLS"),
        ("redis://", "host is missing"),
        ("redis://:6379", "host is missing"),
        ("redis://localhost:0", "port"),
        ("redis://localhost:65536", "port"),
        ("redis://localhost:63a9", "port"),
        ("redis://localhost/db1", "database"),
        ("redis://localhost/-1", "database"),
        ("redis://::1:6379", "brackets"),
        ("redis://[::1:6379", "]"),
        ("redis://localhost?db=1", "query"),
        ("unix://relative/path.sock", "absolute"),
        ("unix:///tmp/r.sock?db=x", "db"),
        ("unix:///tmp/r.sock?color=blue", "unknown query parameter"),
        ("unix:///tmp/r.sock?db=1&db=2", "twice"),
        ("unix:///tmp/r.sock?user=alone", "needs a password"),
        ("unix:///tmp/" + String(repeating: "x", count: 120), "longer than 107"),
        ("redis://:bad%zzescape@host", "%-escape"),
    ])
    func invalidURLsAreRejectedClearly(_ text: String, _ expected: String) {
        #expect {
            try RedisURL(text)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .invalidURL && error.message.contains(expected) && !error.isRetryable
        }
    }

    @Test(arguments: [
        "redis://:Hunter2-Secret@host:99999/0",
        "redis://Hunter2-Secret@host:6379",
        "redis://user:Hunter2-Secret@host/notadb",
        "redis://user:Hunter2-Secret@::1/0",
        "redis://user:Hunter2-Secret/oops@host:port",
        "unix:///tmp/r.sock?password=Hunter2-Secret&bogus=1",
        "unix:///tmp/r.sock?Hunter2-Secret",
        "unix://relative?password=Hunter2-Secret",
    ])
    func errorsNeverEchoThePassword(_ text: String) {
        do {
            _ = try RedisURL(text)
            Issue.record("expected \(text.count)-character URL to be rejected")
        } catch {
            #expect(error.code == .invalidURL)
            #expect(!error.message.contains("Hunter2"))
            #expect(!error.description.contains("Hunter2"))
        }
    }

    @Test func shortPasswordsAreRedactedInDescriptionToo() throws {
        let url = try RedisURL("redis://:ab@host")
        #expect(url.password?.exposedValue == "ab")
        #expect(url.description == "redis://:<redacted>@host:6379/0")
    }

    @Test func whitespaceAroundIsIgnored() throws {
        #expect(try RedisURL("  redis://h:7/1\n").endpoint == .tcp(host: "h", port: 7))
    }
}
