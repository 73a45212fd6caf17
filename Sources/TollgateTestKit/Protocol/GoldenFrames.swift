import Foundation
import TollgateIPC

/// The golden frames of Protocols/golden (every `*.manifest.json`), as the tests of both services read them.
public struct GoldenFrames: Sendable {
    public struct Expectation: Decodable, Sendable {
        public var error: String?
        public var id: String?
        public var closes: Bool?
        public var truncated: Bool?
        public var messageContains: String?

        enum CodingKeys: String, CodingKey {
            case error, id, closes, truncated
            case messageContains = "message_contains"
        }
    }

    public struct Entry: Decodable, Sendable {
        public var name: String
        public var schema: String?
        public var rejectedBy: String?
        public var message: JSONValue?
        public var expect: Expectation?
        /// For frames that only some services accept (e.g. `deliver`): which; nil means every service.
        public var services: [String]?

        enum CodingKeys: String, CodingKey {
            case name, schema, message, expect, services
            case rejectedBy = "rejected_by"
        }
    }

    struct Manifest: Decodable { var frames: [Entry] }

    /// The Protocols folder of this checkout.
    public let protocolsDirectory: String
    public let entries: [Entry]

    /// Finds Protocols/ by walking up from this source file (tests run from the package root or
    /// from .build; the source location is stable).
    public init(sourceFile: String = #filePath) throws {
        var dir = URL(fileURLWithPath: sourceFile).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("Protocols/golden/core.manifest.json")
            if FileManager.default.fileExists(atPath: candidate.path) { break }
            dir = dir.deletingLastPathComponent()
        }
        protocolsDirectory = dir.appendingPathComponent("Protocols").path
        let goldenDirectory = protocolsDirectory + "/golden"
        var all: [Entry] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: goldenDirectory).sorted()
        where name.hasSuffix(".manifest.json") {
            let data = try Data(contentsOf: URL(fileURLWithPath: goldenDirectory + "/" + name))
            all += try JSONDecoder().decode(Manifest.self, from: data).frames
        }
        entries = all
    }

    public var schemasDirectory: String { protocolsDirectory + "/schemas" }

    /// The whole frame (header + payload) of entry `name`.
    public func frame(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: protocolsDirectory + "/golden/\(name).frame")))
    }

    /// The payload of entry `name` (the frame without its 4 header bytes).
    public func payload(_ name: String) throws -> [UInt8] {
        Array(try frame(name).dropFirst(4))
    }

    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// Entries describing malformed input and the reply every service must give.
    public var badFrames: [Entry] { entries.filter { $0.name.hasPrefix("bad.") && $0.services == nil } }

    /// Entries describing malformed input for the request types of `service` (e.g. "bot-gateway").
    public func badFrames(for service: String) -> [Entry] {
        entries.filter { $0.name.hasPrefix("bad.") && ($0.services?.contains(service) ?? false) }
    }
}
