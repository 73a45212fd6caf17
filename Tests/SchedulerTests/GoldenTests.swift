import Testing
import TollgateIPC
import TollgateTestKit

/// The golden frames of Protocols/golden/scheduler.manifest.json against a real poller-scheduler.
@Suite(.serialized) struct GoldenTests {
    @Test func goldenJobRequestsGetSchemaValidRepliesAndBadOnesTypedErrors() async throws {
        let golden = try GoldenFrames()
        let validator = try JSONSchemaValidator(directory: golden.schemasDirectory)
        let cluster = try await PollerCluster()
        try await cluster.start(1)
        let path = cluster.directory + "/poller-1.sock"
        try await offPool {
            let socket = try RawUnixSocket(path: path)
            var bodies: [String: JSONValue] = [:]
            for type in ["schedule", "user_jobs", "cancel"] {
                socket.write(try golden.frame("\(type).request"))
                let reply = try #require(socket.readFrame(), "\(type): no reply")
                let json = try IPCCoding.decode(JSONValue.self, from: reply)
                #expect(json["type"] == .string("ok"), "\(type): \(json)")
                #expect(validator.validate(json, against: "\(type).reply.json").isEmpty, "\(type): \(json)")
                bodies[type] = json["body"]
            }
            #expect(bodies["schedule"]?["created"] == .bool(true))
            #expect(bodies["user_jobs"]?["jobs"]?[0]?["job_id"] == .string("reminder:4242:1"))
            #expect(bodies["cancel"]?["cancelled"] == .number(1))
            // This suite covers the job requests; payments test their own (watch_payment ...).
            let jobTypes: Set<JSONValue> = [.string("schedule"), .string("cancel"), .string("user_jobs")]
            let mine = golden.badFrames(for: "poller-scheduler").filter { jobTypes.contains($0.message?["type"] ?? .null) }
            #expect(!mine.isEmpty)
            for entry in mine {
                socket.write(try golden.frame(entry.name))
                let reply = try #require(socket.readFrame(), "\(entry.name): no reply")
                let error = try IPCCoding.decode(IPCErrorEnvelope.self, from: reply).error
                #expect(error.code.rawValue == entry.expect?.error, "\(entry.name)")
                if let fragment = entry.expect?.messageContains { #expect(error.message.contains(fragment), "\(entry.name)") }
            }
        }
        #expect(try await cluster.store.depth().scheduled == 0)
        await cluster.stopAll()
    }
}

extension JSONValue {
    fileprivate subscript(index: Int) -> JSONValue? {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return nil
    }
}
