/// A strict RFC 8259 JSON parser from bytes to a flat array of ``JSONNode``s.
///
/// It checks everything up front, so that decoding never meets a malformed token: UTF-8 (no
/// overlong forms, no surrogates, nothing above U+10FFFF), no control characters in strings,
/// escapes (including surrogate pairs: a lone surrogate is an error), number syntax (no leading
/// zeros, no `+`, no bare `.`), no trailing commas, nothing after the value. A UTF-8 byte order
/// mark at the start is skipped, as RFC 8259 allows.
///
/// It never recurses: open containers live on an explicit stack, limited to ``maxDepth`` levels
/// (the same limit as Foundation's `JSONDecoder`), so hostile nesting costs one error, not the
/// thread's stack.
struct JSONParser {
    /// The deepest nesting of arrays and objects accepted.
    static let maxDepth = 512

    private let input: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var nodes: [JSONNode] = []
    private var open: [Int] = []

    private init(_ input: UnsafeBufferPointer<UInt8>) {
        self.input = input
    }

    /// The nodes of the document in `input`, followed by one extra `null` node (the value of
    /// absent keys for `superDecoder`).
    static func parse(_ input: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> [JSONNode] {
        var parser = JSONParser(input)
        try parser.run()
        return parser.nodes
    }

    private mutating func run() throws(JSONParseError) {
        nodes.reserveCapacity(input.count / 6 + 2)
        if input.count >= 3, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF { i = 3 }
        skipSpace()
        try value()
        while let top = open.last {
            skipSpace()
            guard i < input.count else { throw fail("unexpected end of input") }
            let c = input[i]
            let isObject = nodes[top].kind == .object
            let closer = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            if c == closer {
                nodes[top].end = nodes.count
                open.removeLast()
                i += 1
                continue
            }
            if nodes[top].count > 0 {
                guard c == UInt8(ascii: ",") else { throw fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'") }
                i += 1
                skipSpace()
            }
            nodes[top].count += 1
            if isObject {
                guard i < input.count, input[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                try string()
                skipSpace()
                guard i < input.count, input[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                i += 1
                skipSpace()
            }
            try value()
        }
        skipSpace()
        guard i == input.count else { throw fail("unexpected data after the JSON value") }
        nodes.append(JSONNode(kind: .null, flags: 0, start: i, end: i, count: 0))
    }

    private func fail(_ reason: String) -> JSONParseError {
        JSONParseError(reason: reason, offset: i)
    }

    private mutating func skipSpace() {
        while i < input.count {
            switch input[i] {
            case 0x20, 0x0A, 0x0D, 0x09: i += 1
            default: return
            }
        }
    }

    /// One value at `i`; a container is only opened (its children follow in `run`).
    private mutating func value() throws(JSONParseError) {
        guard i < input.count else { throw fail("unexpected end of input") }
        switch input[i] {
        case UInt8(ascii: "{"): try openContainer(.object)
        case UInt8(ascii: "["): try openContainer(.array)
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "t"): try literal("true", .true)
        case UInt8(ascii: "f"): try literal("false", .false)
        case UInt8(ascii: "n"): try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        default: throw fail("unexpected character")
        }
    }

    private mutating func openContainer(_ kind: JSONKind) throws(JSONParseError) {
        guard open.count < Self.maxDepth else { throw fail("more than \(Self.maxDepth) levels of nesting") }
        open.append(nodes.count)
        nodes.append(JSONNode(kind: kind, flags: 0, start: i, end: 0, count: 0))
        i += 1
    }

    private mutating func literal(_ word: StaticString, _ kind: JSONKind) throws(JSONParseError) {
        let n = word.utf8CodeUnitCount
        guard input.count - i >= n else { throw fail("invalid literal") }
        let w = word.utf8Start
        for k in 0..<n where input[i + k] != w[k] { throw fail("invalid literal") }
        nodes.append(JSONNode(kind: kind, flags: 0, start: i, end: i + n, count: 0))
        i += n
    }

    private func isDigit(_ at: Int) -> Bool {
        at < input.count && input[at] >= UInt8(ascii: "0") && input[at] <= UInt8(ascii: "9")
    }

    private mutating func number() throws(JSONParseError) {
        let start = i
        if input[i] == UInt8(ascii: "-") { i += 1 }
        guard isDigit(i) else { throw fail("expected a digit") }
        if input[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while isDigit(i) { i += 1 }
        }
        var integral = true
        if i < input.count, input[i] == UInt8(ascii: ".") {
            integral = false
            i += 1
            guard isDigit(i) else { throw fail("expected a digit after '.'") }
            while isDigit(i) { i += 1 }
        }
        if i < input.count, input[i] == UInt8(ascii: "e") || input[i] == UInt8(ascii: "E") {
            integral = false
            i += 1
            if i < input.count, input[i] == UInt8(ascii: "+") || input[i] == UInt8(ascii: "-") { i += 1 }
            guard isDigit(i) else { throw fail("expected a digit in the exponent") }
            while isDigit(i) { i += 1 }
        }
        nodes.append(JSONNode(kind: .number, flags: integral ? 0 : JSONNode.fractional, start: start, end: i, count: 0))
    }

    /// A string at `i` (on its opening quote): checks escapes and UTF-8, records its content.
    private mutating func string() throws(JSONParseError) {
        i += 1
        let start = i
        var flags: UInt8 = 0
        while true {
            guard i < input.count else { throw fail("unterminated string") }
            let b = input[i]
            if b == UInt8(ascii: "\"") { break }
            if b >= 0x20 && b < 0x80 && b != UInt8(ascii: "\\") {
                i += 1
            } else if b == UInt8(ascii: "\\") {
                flags |= JSONNode.escaped
                try escape()
            } else if b < 0x20 {
                throw fail("control character in string")
            } else {
                flags |= JSONNode.nonASCII
                try utf8Sequence(b)
            }
        }
        nodes.append(JSONNode(kind: .string, flags: flags, start: start, end: i, count: 0))
        i += 1
    }

    private mutating func escape() throws(JSONParseError) {
        guard i + 1 < input.count else { throw fail("unterminated string") }
        switch input[i + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            i += 2
        case UInt8(ascii: "u"):
            let unit = try hex4(at: i + 2)
            i += 6
            if unit >= 0xDC00 && unit <= 0xDFFF { throw fail("lone low surrogate escape") }
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard i + 1 < input.count, input[i] == UInt8(ascii: "\\"), input[i + 1] == UInt8(ascii: "u") else {
                    throw fail("high surrogate escape without a low surrogate")
                }
                let low = try hex4(at: i + 2)
                guard low >= 0xDC00 && low <= 0xDFFF else { throw fail("high surrogate escape without a low surrogate") }
                i += 6
            }
        default:
            throw fail("invalid escape")
        }
    }

    private func hex4(at: Int) throws(JSONParseError) -> UInt16 {
        guard input.count - at >= 4 else { throw JSONParseError(reason: "invalid \\u escape", offset: at) }
        var value: UInt16 = 0
        for k in at..<(at + 4) {
            guard let d = JSONText.hexValue(input[k]) else { throw JSONParseError(reason: "invalid \\u escape", offset: k) }
            value = value << 4 | UInt16(d)
        }
        return value
    }

    /// One multi-byte UTF-8 sequence led by `lead` (RFC 3629: shortest form, no surrogates, at
    /// most U+10FFFF).
    private mutating func utf8Sequence(_ lead: UInt8) throws(JSONParseError) {
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw fail("invalid UTF-8")
        }
        guard input.count - i >= length else { throw fail("invalid UTF-8") }
        let second = input[i + 1]
        guard second >= low && second <= high else { throw fail("invalid UTF-8") }
        for k in 2..<length where input[i + k] & 0xC0 != 0x80 { throw fail("invalid UTF-8") }
        i += length
    }
}
