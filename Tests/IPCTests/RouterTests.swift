import Logging
import Testing
import TollgateIPC
import TollgateTestKit

/// A router like the services', with the three common requests.
func makeTestRouter() -> IPCRouter {
    var router = IPCRouter()
    router.register(Hello.self) { hello, _ in
        guard let version = hello.versions.filter(IPCVersion.supported.contains).max() else {
            throw IPCError(.unsupportedVersion, "no common version")
        }
        return Hello.Reply(
            version: version, versions: IPCVersion.supported, service: "bot-gateway", instance: "test",
            startedAtMs: 1, maxFrameBytes: 1 << 20)
    }
    router.register(Health.self) { _, _ in
        Health.Reply(status: .ready, live: true, ready: true, uptimeS: 1, checks: ["redis": .init(ok: true)])
    }
    router.register(Stats.self) { _, _ in
        Stats.Reply(Stats.Snapshot(service: "bot-gateway", instance: "test", uptimeS: 1))
    }
    return router
}

@Suite struct RouterTests {
    let golden: GoldenFrames
    let validator: JSONSchemaValidator
    let router = makeTestRouter()
    let logger = Logger(label: "test")

    init() throws {
        golden = try GoldenFrames()
        validator = try JSONSchemaValidator(directory: golden.schemasDirectory)
    }

    /// Every malformed golden frame that can be read as a frame gets the expected error reply.
    @Test func badGoldenFramesGetTypedErrors() async throws {
        let readable = golden.badFrames.filter { $0.expect?.closes == false }
        #expect(readable.count >= 10)
        for entry in readable {
            let reply = await router.respond(to: try golden.payload(entry.name), connection: 1, logger: logger)
            #expect(reply.isError, "\(entry.name)")
            let decoded = try IPCCoding.decode(IPCErrorEnvelope.self, from: reply.bytes)
            #expect(decoded.error.code.rawValue == entry.expect?.error, "\(entry.name): got \(decoded.error)")
            #expect(decoded.id == entry.expect?.id, "\(entry.name): id \(String(describing: decoded.id))")
            if let fragment = entry.expect?.messageContains {
                #expect(decoded.error.message.contains(fragment), "\(entry.name): '\(decoded.error.message)'")
            }
            let json = try IPCCoding.decode(JSONValue.self, from: reply.bytes)
            #expect(validator.validate(json, against: "error.json").isEmpty, "\(entry.name)")
        }
    }

    @Test func goodGoldenRequestsGetRepliesThatMatchTheirSchemas() async throws {
        for name in ["hello", "health", "stats"] {
            let reply = await router.respond(to: try golden.payload("\(name).request"), connection: 1, logger: logger)
            #expect(!reply.isError, "\(name)")
            let json = try IPCCoding.decode(JSONValue.self, from: reply.bytes)
            #expect(validator.validate(json, against: "\(name).reply.json").isEmpty, "\(name): \(validator.validate(json, against: "\(name).reply.json"))")
            #expect(json["id"] == golden.entry("\(name).request")?.message?["id"])
        }
    }

    @Test func handlerErrorsBecomeReplies() async throws {
        var router = IPCRouter()
        router.register(Health.self) { _, _ in throw IPCError(.unavailable, "redis down") }
        router.register(Stats.self) { _, _ in throw CocoaLikeError() }
        let r1 = await router.respond(to: try golden.payload("health.request"), connection: 1, logger: logger)
        #expect(try IPCCoding.decode(IPCErrorEnvelope.self, from: r1.bytes).error.code == .unavailable)
        let r2 = await router.respond(to: try golden.payload("stats.request"), connection: 1, logger: logger)
        #expect(try IPCCoding.decode(IPCErrorEnvelope.self, from: r2.bytes).error.code == .internal)
    }

    @Test func errorMessagesAreRedacted() async throws {
        var router = IPCRouter()
        router.register(Health.self) { _, _ in
            throw IPCError(.internal, "GET https://api.telegram.org/bot123456:TEST-abc/getMe failed")
        }
        let r = await router.respond(to: try golden.payload("health.request"), connection: 1, logger: logger)
        let text = String(decoding: r.bytes, as: UTF8.self)
        #expect(!text.contains("TEST-abc"))
        #expect(text.contains("bot<redacted>"))
    }

    @Test func randomBytesNeverCrashAndAlwaysGetAnErrorReply() async throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let n = Int.random(in: 0...300, using: &rng)
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let reply = await router.respond(to: bytes, connection: 1, logger: logger)
            #expect(reply.isError)
        }
    }
}

struct CocoaLikeError: Error {}
