import Foundation
import Logging
import Testing
import TollgateIPC
import TollgateTestKit

/// The codec reads strict RFC 8259 JSON only; anything else is `invalid_json` at the router.
@Suite struct JSONParserTests {
    /// Malformed texts, each with what is wrong. Several of these Foundation's decoder accepted
    /// (trailing commas, leading zeros or bad escapes in members nobody reads, UTF-16 input).
    static let malformed: [(String, [UInt8])] = [
        ("empty", []),
        ("only white space", Array(" \n\t".utf8)),
        ("trailing comma in an array", Array("[1,]".utf8)),
        ("trailing comma in an object", Array(#"{"a":1,}"#.utf8)),
        ("missing comma", Array("[1 2]".utf8)),
        ("missing colon", Array(#"{"a" 1}"#.utf8)),
        ("unquoted key", Array("{a:1}".utf8)),
        ("single quotes", Array("['a']".utf8)),
        ("leading zero", Array("[01]".utf8)),
        ("negative leading zero", Array("[-01]".utf8)),
        ("plus sign", Array("[+1]".utf8)),
        ("bare minus", Array("[-]".utf8)),
        ("fraction without digits", Array("[1.]".utf8)),
        ("fraction without integer part", Array("[.5]".utf8)),
        ("exponent without digits", Array("[1e]".utf8)),
        ("exponent sign without digits", Array("[1e+]".utf8)),
        ("hex number", Array("[0x1]".utf8)),
        ("Infinity", Array("[Infinity]".utf8)),
        ("NaN", Array("[NaN]".utf8)),
        ("truncated literal", Array("[tru]".utf8)),
        ("capitalized literal", Array("[True]".utf8)),
        ("unterminated string", Array(#"["abc]"#.utf8)),
        ("unterminated array", Array("[1,2".utf8)),
        ("unterminated object", Array(#"{"a":1"#.utf8)),
        ("unbalanced close", Array("[1]]".utf8)),
        ("trailing garbage", Array(#"{"a":1}x"#.utf8)),
        ("two values", Array("1 2".utf8)),
        ("raw tab in a string", Array("[\"a\tb\"]".utf8)),
        ("raw newline in a string", Array("[\"a\nb\"]".utf8)),
        ("raw NUL in a string", [0x5B, 0x22, 0x00, 0x22, 0x5D]),
        ("unknown escape", Array(#"["\x"]"#.utf8)),
        ("capital U escape", Array(#"["\U0041"]"#.utf8)),
        ("short \\u escape", Array(#"["\u00e"]"#.utf8)),
        ("non-hex \\u escape", Array(#"["\u00G1"]"#.utf8)),
        ("lone high surrogate", Array(#"["\ud800"]"#.utf8)),
        ("lone low surrogate", Array(#"["\udc00"]"#.utf8)),
        ("high surrogate then a letter", Array(#"["\ud800\u0041"]"#.utf8)),
        ("two high surrogates", Array(#"["\ud800\ud800"]"#.utf8)),
        ("reversed surrogate pair", Array(#"["\ude00\ud83d"]"#.utf8)),
        ("invalid UTF-8 byte", [0x5B, 0x22, 0xFF, 0x22, 0x5D]),
        ("overlong UTF-8", [0x5B, 0x22, 0xC0, 0x80, 0x22, 0x5D]),
        ("UTF-8 surrogate", [0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D]),
        ("UTF-8 above U+10FFFF", [0x5B, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x5D]),
        ("truncated UTF-8", [0x5B, 0x22, 0xE2, 0x82, 0x22, 0x5D]),
        ("stray continuation byte", [0x5B, 0x22, 0x80, 0x22, 0x5D]),
        ("non-ASCII outside a string", [0x5B, 0xC3, 0xA9, 0x5D]),
        ("UTF-16", [0x00, 0x5B, 0x00, 0x31, 0x00, 0x5D]),
        ("trailing NUL", [0x31, 0x00]),
        ("comment", Array("[1 /* c */]".utf8)),
        ("vertical tab as white space", Array("[1,\u{0B}2]".utf8)),
        ("non-breaking space as white space", Array("[1,\u{A0}2]".utf8)),
    ]

    @Test func malformedTextsAreRejected() {
        for (what, bytes) in Self.malformed {
            do {
                _ = try IPCCoding.decode(JSONValue.self, from: bytes)
                Issue.record("accepted: \(what)")
            } catch DecodingError.dataCorrupted(let context) {
                #expect(context.codingPath.isEmpty, "\(what)")
                #expect(context.underlyingError != nil, "\(what): no parser position")
                #expect(IPCCoding.explain(DecodingError.dataCorrupted(context)) == "not valid JSON", "\(what)")
            } catch {
                Issue.record("\(what): \(error)")
            }
        }
    }

    @Test func theRouterAnswersInvalidJSON() async throws {
        let router = makeTestRouter()
        for (what, bytes) in Self.malformed {
            // As the body of a request that would otherwise be fine where possible.
            for payload in [bytes, Array(#"{"body":{},"id":"p-1","type":"health","v":1,"x":"#.utf8) + bytes + [UInt8(ascii: "}")]] {
                let reply = await router.respond(to: payload, connection: 1, logger: Logger(label: "test"))
                let error = try IPCCoding.decode(IPCErrorEnvelope.self, from: reply.bytes)
                #expect(error.error.code == .invalidJSON, "\(what): \(error.error)")
                #expect(error.id == nil, "\(what)")
            }
        }
    }

    @Test func validEdgeCasesAreAccepted() throws {
        #expect(try IPCCoding.decode(JSONValue.self, from: Array("\u{FEFF}[1]".utf8)) == .array([.number(1)]), "a UTF-8 BOM is skipped")
        #expect(try IPCCoding.decode(JSONValue.self, from: Array(" \r\n\t{} ".utf8)) == .object([:]))
        #expect(try IPCCoding.decode(JSONValue.self, from: Array(#"["\u0000"]"#.utf8)) == .array([.string("\u{0}")]))
        #expect(try IPCCoding.decode(JSONValue.self, from: Array("[\"\u{7F}\"]".utf8)) == .array([.string("\u{7F}")]))
        #expect(try IPCCoding.decode(JSONValue.self, from: Array("[-0,0e0,1E+2,1e-2,0.5]".utf8)) == .array([.number(-0.0), .number(0), .number(100), .number(0.01), .number(0.5)]))
        #expect(try IPCCoding.decode(String.self, from: Array(#""\ud83d\ude00""#.utf8)) == "😀")
        #expect(try IPCCoding.decode(Int.self, from: Array("7".utf8)) == 7, "a top-level scalar is a JSON text")
    }

    /// Hostile nesting is refused by the parser, which keeps open containers on a heap stack,
    /// before any recursive decoding starts; the limit is Foundation's (512 levels).
    @Test func depthBombIsRejectedWithoutCrashing() throws {
        let bomb = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        #expect(throws: DecodingError.self) { try IPCCoding.decode(JSONValue.self, from: bomb) }
        let closed = bomb + [UInt8](repeating: UInt8(ascii: "]"), count: 100_000)
        #expect(throws: DecodingError.self) { try IPCCoding.decode(JSONValue.self, from: closed) }
        let objects = Array(String(repeating: #"{"a":"#, count: 100_000).utf8)
        #expect(throws: DecodingError.self) { try IPCCoding.decode(JSONValue.self, from: objects) }
        for (depth, accepted) in [(512, true), (513, false)] {
            let text = Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
            #expect(((try? IPCCoding.decode(JSONValue.self, from: text)) != nil) == accepted, "depth \(depth)")
            #expect(((try? Reference.decode(JSONValue.self, text)) != nil) == accepted, "Foundation, depth \(depth)")
        }
    }

    /// Random damage to real frames never crashes the parser, and whatever it still accepts,
    /// Foundation accepts too and reads the same.
    @Test(arguments: [UInt64(41), 42])
    func mutatedFramesNeverCrash(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let golden = try GoldenFrames()
        let sources = try golden.entries.map { try golden.payload($0.name) }.filter { !$0.isEmpty }
        let interesting: [UInt8] = Array(#"{}[]",:\-+.eE0189tfnu "#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xED, 0xF4, 0xFF]
        for _ in 0..<3000 {
            var bytes = sources[Int.random(in: 0..<sources.count, using: &rng)]
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0..<max(bytes.count, 1), using: &rng)
                let byte = Bool.random(using: &rng) ? interesting.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
                switch Int.random(in: 0...2, using: &rng) {
                case 0 where !bytes.isEmpty: bytes[at] = byte
                case 1: bytes.insert(byte, at: min(at, bytes.count))
                default: if !bytes.isEmpty { bytes.remove(at: at) }
                }
            }
            if let ours = try? IPCCoding.decode(JSONValue.self, from: bytes) {
                #expect((try? Reference.decode(JSONValue.self, bytes)) == ours, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
    }
}
