import Foundation
import Testing
import TollgateIPC

/// The codec's decoder against Foundation's `JSONDecoder` on valid JSON: the same values, and
/// the same `DecodingError`s (kind, type, coding path, text) — which is what the router's
/// `invalid_request` messages are made of.
@Suite struct CodecDecodingTests {
    /// Foundation reports a number that does not fit its field as invalid JSON for the whole
    /// document (empty path); the codec names the field. The one deliberate difference.
    static func sameOutcome(_ ours: String, _ foundation: String) -> Bool {
        if ours == foundation { return true }
        return foundation == "dataCorrupted [] The given data was not valid JSON." && ours.hasPrefix("dataCorrupted [")
            && ours.contains("Parsed JSON number <")
    }

    @Test func aNumberThatDoesNotFitNamesItsField() throws {
        let bytes = Array(#"{"body":{"deliveries":[{"attempt":1.5,"chat_id":1,"due_at_ms":1,"epoch":1,"job_id":"j","kind":"k","payload":{},"user_id":1}]},"id":"d","type":"deliver","v":1}"#.utf8)
        let error = try #require(throws: DecodingError.self) { try IPCCoding.decode(IPCRequestEnvelope<Deliver>.self, from: bytes) }
        #expect(IPCCoding.explain(error) == "field 'body.deliveries[0].attempt': Parsed JSON number <1.5> does not fit in Int.")
        let foundation = try #require(throws: DecodingError.self) { try Reference.decode(IPCRequestEnvelope<Deliver>.self, bytes) }
        #expect(IPCCoding.explain(foundation) == "not valid JSON", "Foundation's account, for the record")
    }

    func compare<T: Decodable & Equatable>(_: T.Type, _ json: String, _ label: @autoclosure () -> String = "") {
        let bytes = Array(json.utf8)
        let ours = Reference.outcome(T.self) { try IPCCoding.decode(T.self, from: bytes) }
        let foundation = Reference.outcome(T.self) { try Reference.decode(T.self, bytes) }
        switch (ours, foundation) {
        case (.success(let a), .success(let b)):
            #expect(a == b, "\(label()) \(json)")
        case (.failure(let a), .failure(let b)):
            #expect(Self.sameOutcome(a.text, b.text), "\(label()) \(json)\n codec:      \(a)\n Foundation: \(b)")
        default:
            Issue.record("\(label()) \(json)\n codec:      \(ours)\n Foundation: \(foundation)")
        }
    }

    struct Field<T: Decodable & Equatable>: Decodable, Equatable { var v: T }

    static let numberTokens = [
        "0", "-0", "1", "-1", "1.0", "1.5", "-1.5", "1e2", "1E2", "1e+2", "1e-2", "2.55e2", "100e-2", "255", "256", "-128", "-129",
        "127", "128", "65535", "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "18446744073709551615", "18446744073709551616", "9007199254740993", "9007199254740993.0",
        "9007199254740993.5", "1.0000000000000001", "12345678901234567.0", "-9007199254740993.9", "9223372036854775807.0", "1e20",
        "1e400", "-1e400", "1e-400", "0e-5000", "0.000e999", "5e-324", "2.4703282292062328e-324", "1.7976931348623157e308",
        "1.7976931348623159e308", "3.4028235e38", "3.4028236e38", "1e-50", "0.1", "123456789012345678901234567890",
        "123456789012345678901234567890e-20", "-0.0", "-0e0", "0.5", "1E-7", "123.456e-7", "100000000000000000000000",
    ]

    @Test(arguments: numberTokens)
    func numberTokensIntoEveryNumericType(token: String) {
        let json = #"{"v":\#(token)}"#
        compare(Field<Int>.self, json)
        compare(Field<Int8>.self, json)
        compare(Field<UInt8>.self, json)
        compare(Field<Int32>.self, json)
        compare(Field<Int64>.self, json)
        compare(Field<UInt64>.self, json)
        compare(Field<UInt>.self, json)
        compare(Field<Double>.self, json)
        compare(Field<Float>.self, json)
        compare(Field<JSONValue>.self, json)
        compare([Int].self, "[\(token)]")
        compare(Int.self, token)
        compare(Double.self, token)
        compare(JSONValue.self, "[\(token)]")
    }

    static let badBodies: [String] = [
        #"{"id":"d","type":"deliver","v":1}"#,
        #"{"body":null,"id":"d","type":"deliver","v":1}"#,
        #"{"body":[],"id":"d","type":"deliver","v":1}"#,
        #"{"body":{},"id":"d","type":"deliver","v":1}"#,
        #"{"body":{"deliveries":"none"},"id":"d","type":"deliver","v":1}"#,
        #"{"body":{"deliveries":[null]},"id":"d","type":"deliver","v":1}"#,
        #"{"body":{"deliveries":[{}]},"id":"d","type":"deliver","v":1}"#,
        #"{"body":{"deliveries":[5]},"id":"d","type":"deliver","v":1}"#,
        #"{"body":{"deliveries":[{"attempt":1,"chat_id":1,"due_at_ms":1,"epoch":1,"job_id":"j","kind":"k","payload":{},"user_id":1},{"attempt":1}]},"id":"d","type":"deliver","v":1}"#,
        #"{"body":{"deliveries":[{"attempt":1,"chat_id":1,"due_at_ms":1,"epoch":1,"job_id":"j","kind":"k","payload":{},"user_id":"1"}]},"id":"d","type":"deliver","v":1}"#,
        #"{"body":{"deliveries":[{"attempt":1,"chat_id":1,"due_at_ms":1,"epoch":1,"job_id":"j","kind":"k","payload":{},"user_id":null}]},"id":"d","type":"deliver","v":1}"#,
        #"{"body":{"deliveries":[{"attempt":1.5,"chat_id":1,"due_at_ms":1,"epoch":1,"job_id":"j","kind":"k","payload":{},"user_id":1}]},"id":"d","type":"deliver","v":1}"#,
        #"{"body":{"deliveries":[{"attempt":1,"chat_id":1,"due_at_ms":1,"epoch":1,"job_id":"j","kind":"k","payload":[],"user_id":1}]},"id":"d","type":"deliver","v":1}"#,
        #"{"body":{"deliveries":[{"attempt":1,"chat_id":1,"due_at_ms":1,"epoch":1,"job_id":"j","kind":"k","payload":{"x":1e400},"user_id":1}]},"id":"d","type":"deliver","v":1}"#,
        #"{"body":{"deliveries":[{"attempt":1,"chat_id":1,"due_at_ms":1,"epoch":1,"job_id":"j","kind":"k","payload":{"x":[1,{"y":1e-400}]},"user_id":1}]},"id":"d","type":"deliver","v":1}"#,
        #"{"body":{"deliveries":[{"attempt":1,"chat_id":1,"due_at_ms":true,"epoch":1,"job_id":5,"kind":"k","payload":{},"user_id":1}]},"id":"d","type":"deliver","v":1}"#,
        #"{"body":{"deliveries":[]},"id":5,"type":"deliver","v":1}"#,
        #"{"body":{"deliveries":[]},"id":"d","type":"deliver","v":"1"}"#,
        #"{"body":{"deliveries":[]},"id":"d","type":null,"v":1}"#,
        #"[{"body":{"deliveries":[]},"id":"d","type":"deliver","v":1}]"#,
        #""deliver""#,
        "null",
    ]

    @Test func requestErrorsMatchFoundation() {
        for body in Self.badBodies {
            compare(IPCRequestEnvelope<Deliver>.self, body)
            let ours = Result { try IPCCoding.decode(IPCRequestEnvelope<Deliver>.self, from: Array(body.utf8)) }
            let foundation = Result { try Reference.decode(IPCRequestEnvelope<Deliver>.self, Array(body.utf8)) }
            if case .failure(let a) = ours, case .failure(let b) = foundation, !body.contains("1.5") {
                #expect(IPCCoding.explain(a) == IPCCoding.explain(b), "\(body)")
            }
        }
    }

    @Test func replyErrorsMatchFoundation() {
        compare(IPCOkEnvelope<Health.Reply>.self, #"{"body":{"checks":{},"live":true,"ready":true,"status":"bogus","uptime_s":1},"id":"1","type":"ok","v":1}"#)
        compare(IPCOkEnvelope<Health.Reply>.self, #"{"body":{"checks":{"5":{"ok":"yes"}},"live":true,"ready":true,"status":"ready","uptime_s":1},"id":"1","type":"ok","v":1}"#)
        compare(IPCOkEnvelope<Health.Reply>.self, #"{"body":{"checks":{"x":{"ok":true,"latency_ms":"1"}},"live":true,"ready":true,"status":"ready","uptime_s":1},"id":"1","type":"ok","v":1}"#)
        compare(IPCOkEnvelope<Health.Reply>.self, #"{"body":{"checks":{"x":{"ok":null}},"live":true,"ready":true,"status":"ready","uptime_s":1},"id":"1","type":"ok","v":1}"#)
        compare(IPCOkEnvelope<Stats.Reply>.self, #"{"body":{"counters":{"a":"1"},"gauges":{},"info":{},"instance":"i","service":"s","uptime_s":1},"id":"1","type":"ok","v":1}"#)
        compare(IPCOkEnvelope<Stats.Reply>.self, #"{"body":{"counters":{},"gauges":{},"info":{"a":1},"instance":"i","service":"s","uptime_s":1,"instances":[{}]},"id":"1","type":"ok","v":1}"#)
        compare(IPCOkEnvelope<Deliver.Reply>.self, #"{"body":{"results":[{"job_id":"a","outcome":"lost"}]},"id":"1","type":"ok","v":1}"#)
        compare(IPCOkEnvelope<Deliver.Reply>.self, #"{"body":{"results":[{"job_id":"a","outcome":"retry","retry_after_ms":"soon"}]},"id":"1","type":"ok","v":1}"#)
        compare(IPCErrorEnvelope.self, #"{"error":{"code":5,"message":"m"},"type":"error","v":1}"#)
        compare(IPCErrorEnvelope.self, #"{"error":{"code":"x","message":"m","details":{"a":[1,2,{"b":null}]}},"type":"error","v":1}"#)
        compare(IPCErrorEnvelope.self, #"{"error":{"code":"x"},"type":"error","v":1}"#)
    }

    /// Duplicate keys: the first occurrence wins, in structs, dictionaries and JSONValue alike.
    @Test func repeatedKeys() {
        compare(Field<Int>.self, #"{"v":1,"v":"x"}"#)
        compare(Field<Int>.self, #"{"v":"x","v":1}"#)
        compare([String: Int].self, #"{"a":1,"a":"x","b":2}"#)
        compare([String: Int].self, #"{"a":"x","a":1}"#)
        compare(JSONValue.self, #"{"a":1,"a":[2],"b":{"c":1,"c":2}}"#)
        compare(Field<Int>.self, #"{"\u0076":1}"#)
        compare([String: Int].self, #"{"\u00e9":1,"é":2,"e\u0301":3}"#)
        compare(Field<Int>.self, #"{"v":1,"w":{"v":"x"}}"#)
    }

    @Test func stringsWithEscapesAndUnicode() {
        compare(String.self, #""\u0000\u001f\"\\\/\b\f\n\r\t\u00e9\u20AC\ud83d\ude00 é 😀 \u2028""#)
        compare([String].self, #"["a\/b","\uFFFF","\uDBFF\uDFFF","\u0041\u030A"]"#)
        compare(JSONValue.self, #"{"k\ud83d\ude00":"v","":"","\n":[]}"#)
    }

    @Test func specialFoundationTypes() {
        compare(Field<Data>.self, #"{"v":"AQID/w=="}"#)
        compare(Field<Data>.self, #"{"v":"AQI"}"#)
        compare(Field<Data>.self, #"{"v":5}"#)
        compare(Field<Data>.self, #"{"v":null}"#)
        compare(Field<URL>.self, #"{"v":"https:\/\/example.org\/a?b=c"}"#)
        compare(Field<URL>.self, #"{"v":"http://a b"}"#)
        compare(Field<URL>.self, #"{"v":[]}"#)
        compare(Field<Decimal>.self, #"{"v":12.50}"#)
        compare(Field<Decimal>.self, #"{"v":"1"}"#)
        compare(Field<Date>.self, #"{"v":12.5}"#)
        compare(Field<[Int: String]>.self, #"{"v":{"1":"a","10":"b"}}"#)
        compare(Field<[Int: String]>.self, #"{"v":{"1":"a","x":"b"}}"#)
        compare(Field<[Int?]>.self, #"{"v":[1,null,3]}"#)
        compare(Field<[[Bool]]>.self, #"{"v":[[true],[],[false,true]]}"#)
        compare(Field<Bool>.self, #"{"v":null}"#)
        compare(Field<Bool?>.self, #"{"v":null}"#)
        compare(Field<String?>.self, #"{"v":5}"#)
    }

    @Test(arguments: [UInt64(31), 32, 33])
    func randomJSONTexts(seed: UInt64) {
        var g = RandomJSONText(rng: SeededGenerator(seed: seed))
        for round in 0..<300 {
            let text = g.value(depth: 0)
            compare(JSONValue.self, g.space() + text + g.space(), "seed \(seed) round \(round)")
        }
    }
}

/// Valid JSON texts written in every way the grammar allows: white space anywhere, characters
/// raw or as `\u` escapes (surrogate pairs for astral ones), numbers in all forms.
struct RandomJSONText {
    var rng: SeededGenerator

    mutating func pick<T>(_ options: [T]) -> T { options[Int.random(in: 0..<options.count, using: &rng)] }

    mutating func space() -> String { pick(["", "", "", " ", "\n", "\t", "\r\n", "  \t "]) }

    mutating func number() -> String {
        var s = pick(["", "", "-"])
        s += pick(["0", "1", "7", "42", "123456789", "9007199254740993", "18446744073709551616", "\(UInt64.random(in: 0...UInt64.max, using: &rng))"])
        if Bool.random(using: &rng) { s += "." + pick(["0", "5", "25", "000001", "9999999999999999999"]) }
        if Bool.random(using: &rng) { s += pick(["e", "E"]) + pick(["", "+", "-"]) + pick(["0", "1", "2", "10", "300", "400", "08"]) }
        return s
    }

    mutating func character() -> String {
        let raw = pick(RandomValues.alphabet)
        var out = ""
        for scalar in raw.unicodeScalars {
            switch scalar {
            case "\"": out += pick(["\\\"", "\\u0022"])
            case "\\": out += pick(["\\\\", "\\u005c", "\\u005C"])
            case "/": out += pick(["/", "\\/", "\\u002F"])
            case "\n": out += pick(["\\n", "\\u000a"])
            case _ where scalar.value < 0x20: out += String(format: "\\u%04X", scalar.value)
            case _ where Bool.random(using: &rng) && scalar.value > 0xFFFF:
                let v = scalar.value - 0x10000
                out += String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
            case _ where Bool.random(using: &rng) && scalar.value <= 0xFFFF: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    mutating func string() -> String {
        "\"" + (0..<Int.random(in: 0...6, using: &rng)).map { _ in character() }.joined() + "\""
    }

    mutating func value(depth: Int) -> String {
        switch depth > 3 ? Int.random(in: 0...3, using: &rng) : Int.random(in: 0...5, using: &rng) {
        case 0: return pick(["null", "true", "false"])
        case 1: return number()
        case 2, 3: return string()
        case 4:
            let items = (0..<Int.random(in: 0...4, using: &rng)).map { _ in space() + value(depth: depth + 1) + space() }
            return "[" + items.joined(separator: ",") + space() + "]"
        default:
            let members = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                space() + string() + space() + ":" + space() + value(depth: depth + 1) + space()
            }
            return "{" + members.joined(separator: ",") + space() + "}"
        }
    }
}
