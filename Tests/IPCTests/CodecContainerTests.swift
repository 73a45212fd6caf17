import Foundation
import Testing
import TollgateIPC

/// The less common parts of the Encoder and Decoder APIs, each compared with Foundation: nested
/// containers, super encoders and decoders, values that encode nothing, keys encoded twice,
/// containers written out of order (the codec hands those to Foundation), errors.
@Suite struct CodecContainerTests {
    func sameBytes<T: Encodable>(_ value: T, _ label: String) {
        let ours = Result { try IPCCoding.encode(value) }.mapError { DescribedError(text: Reference.describe($0)) }
        let foundation = Result { try Reference.encode(value) }.mapError { DescribedError(text: Reference.describe($0)) }
        #expect(ours == foundation, "\(label)")
    }

    class Base: Encodable {
        var id = 1
        var tags = ["a/b"]
    }

    final class Derived: Base {
        var extra: String? = "x"
        enum K: String, CodingKey { case extra, more }
        override func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: K.self)
            try c.encode(extra, forKey: .extra)
            try super.encode(to: c.superEncoder())
            try super.encode(to: c.superEncoder(forKey: .more))
        }
    }

    struct Scripted: Encodable {
        let script: (any Encoder) throws -> Void
        func encode(to encoder: any Encoder) throws { try script(encoder) }
    }

    enum K: String, CodingKey { case a, b, c, x, y, z }

    struct Wrapper<T: Encodable>: Encodable { var v: T; var w = 1 }

    struct AnyKey: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
        var intValue: Int? { nil }
    }

    @Test func encoderUsesMatchFoundation() {
        sameBytes(Derived(), "super encoders")
        sameBytes(Wrapper(v: Scripted { _ in }), "a nested value that encodes nothing is {}")
        sameBytes(Scripted { _ in }, "a top-level value that encodes nothing is an error")
        sameBytes(
            Scripted { e in
                var c = e.container(keyedBy: K.self)
                try c.encode(1, forKey: .z)
                var n = c.nestedContainer(keyedBy: K.self, forKey: .b)
                try n.encode("n", forKey: .y)
                try n.encode(true, forKey: .x)
                var u = c.nestedUnkeyedContainer(forKey: .a)
                try u.encode(1)
                var uu = u.nestedUnkeyedContainer()
                try uu.encodeNil()
                var un = u.nestedContainer(keyedBy: K.self)
                try un.encode(2.5, forKey: .c)
                _ = u.superEncoder()
                try c.encodeNil(forKey: .y)
            }, "nested containers in order")
        sameBytes(
            Scripted { e in
                var c = e.container(keyedBy: K.self)
                var n = c.nestedContainer(keyedBy: K.self, forKey: .a)
                try n.encode(1, forKey: .x)
                try c.encode(3, forKey: .b)
                try n.encode(4, forKey: .y)
            }, "a nested container written after its parent moved on")
        sameBytes(
            Scripted { e in
                var c = e.container(keyedBy: K.self)
                try c.encode(1, forKey: .a)
                try c.encode(2, forKey: .a)
            }, "a key encoded twice")
        sameBytes(
            Scripted { e in
                var c = e.container(keyedBy: K.self)
                var n = c.nestedContainer(keyedBy: K.self, forKey: .a)
                try n.encode(1, forKey: .x)
                var m = c.nestedContainer(keyedBy: K.self, forKey: .a)
                try m.encode(2, forKey: .y)
            }, "a nested container requested twice for one key")
        sameBytes(
            Scripted { e in
                var c1 = e.container(keyedBy: K.self)
                try c1.encode(1, forKey: .b)
                var c2 = e.container(keyedBy: K.self)
                try c2.encode(2, forKey: .a)
                try c1.encode(3, forKey: .c)
            }, "one encoder's keyed container requested twice")
        sameBytes(
            Scripted { e in
                var c = e.singleValueContainer()
                try c.encode(Wrapper(v: [1, 2]))
            }, "a single-value container passing on a value")
        sameBytes(
            Scripted { e in
                var c = e.container(keyedBy: AnyKey.self)
                for (i, name) in ["\u{212A}", "K", "e\u{301}", "é", "z"].enumerated() { try c.encode(i, forKey: AnyKey(stringValue: name)) }
            }, "keys that differ in bytes but not as Strings")
        sameBytes(Wrapper(v: Double.nan), "NaN in a struct")
        sameBytes([[Float.infinity]], "infinity in an array")
        sameBytes(["a": JSONValue.array([.number(-.infinity)])], "infinity in a JSONValue")
        sameBytes(Wrapper(v: [Data([1, 2, 255]), Data()]), "Data")
        sameBytes(Wrapper(v: URL(string: "https://example.org/a/b?c=d")!), "URL")
        sameBytes(Wrapper(v: [Decimal(string: "12.50")!, Decimal(string: "-1e-30")!]), "Decimal")
        sameBytes(Wrapper(v: Date(timeIntervalSinceReferenceDate: 12.5)), "Date")
        sameBytes([3: "c", 1: "a", 20: "t"], "Int-keyed dictionary")
        sameBytes([[Int?]]([[1, nil], [], [nil]]), "optionals in arrays")
        sameBytes(Wrapper(v: Int128.min), "Int128")
    }

    indirect enum Nest: Encodable {
        case leaf, list([Nest])
        func encode(to encoder: any Encoder) throws {
            var c = encoder.unkeyedContainer()
            if case .list(let items) = self { for item in items { try c.encode(item) } }
        }
        static func depth(_ n: Int) -> Nest { (1..<n).reduce(.list([])) { inner, _ in .list([inner]) } }
    }

    @Test func nestingLimitMatchesFoundation() {
        sameBytes(Nest.depth(511), "511 levels")
        sameBytes(Nest.depth(512), "512 levels")
        let deep = (1..<520).reduce(JSONValue.array([])) { inner, _ in .array([inner]) }
        sameBytes(deep, "a JSONValue 520 levels deep")
    }

    /// A Decodable that walks the container API and writes down what it saw.
    struct Walk: Decodable, Equatable {
        var log: [String] = []
        enum K: String, CodingKey { case n, s, a, o, x, missing }

        init(from d: any Decoder) throws {
            func note(_ label: String, _ step: () throws -> Any?) {
                do { log.append("\(label): \(String(describing: try step()))") } catch { log.append("\(label): \(Reference.describe(error))") }
            }
            let c = try d.container(keyedBy: K.self)
            log.append("keys \(c.allKeys.map(\.stringValue).sorted()) path \(d.codingPath.count)")
            note("bool null") { try c.decode(Bool.self, forKey: .n) }
            note("string null") { try c.decode(String.self, forKey: .n) }
            note("missing") { try c.decode(Int.self, forKey: .missing) }
            note("decodeNil missing") { try c.decodeNil(forKey: .missing) }
            note("nested keyed missing") { try c.nestedContainer(keyedBy: K.self, forKey: .missing).allKeys.count }
            note("nested keyed null") { try c.nestedContainer(keyedBy: K.self, forKey: .n).allKeys.count }
            note("nested unkeyed on object") { try c.nestedUnkeyedContainer(forKey: .o).count }
            note("ifPresent wrong type") { try c.decodeIfPresent(Int.self, forKey: .s) }
            note("ifPresent null") { try c.decodeIfPresent(Int.self, forKey: .n) }
            note("generic null") { try c.decode([Int].self, forKey: .n) }
            note("super") { try c.superDecoder().singleValueContainer().decodeNil() }
            note("super for key") { try c.superDecoder(forKey: .o).container(keyedBy: K.self).codingPath.map(\.stringValue) }
            note("contains") { [c.contains(.n), c.contains(.missing)] }
            note("unkeyed walk") {
                var u = try c.nestedUnkeyedContainer(forKey: .a)
                var steps: [String] = ["count \(String(describing: u.count))"]
                for attempt in 0..<8 {
                    do {
                        switch attempt % 4 {
                        case 0: steps.append("string \(try u.decode(String.self))")
                        case 1: steps.append("nil \(try u.decodeNil())")
                        case 2: steps.append("keyed \(try u.nestedContainer(keyedBy: K.self).codingPath.map(\.stringValue))")
                        default: steps.append("int \(try u.decode(Int.self))")
                        }
                    } catch { steps.append(Reference.describe(error)) }
                    steps.append("at \(u.currentIndex) end \(u.isAtEnd)")
                }
                steps.append((try? u.superDecoder()).map { _ in "super" } ?? "no super")
                return steps
            }
        }
    }

    @Test func decoderUsesMatchFoundation() throws {
        let json = Array(#"{"n":null,"s":"str","a":[null,{"k":1},5,"t"],"o":{"k":true},"x":1,"zz":1,"zz":2}"#.utf8)
        let ours = try IPCCoding.decode(Walk.self, from: json)
        let foundation = try Reference.decode(Walk.self, json)
        #expect(ours.log.count > 10)
        for (a, b) in zip(ours.log, foundation.log) { #expect(a == b) }
        #expect(ours.log.count == foundation.log.count)
    }
}
