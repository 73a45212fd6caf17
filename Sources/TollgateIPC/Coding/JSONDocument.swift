import Foundation

/// A parsed JSON text: its own copy of the bytes and the flat node array over them. Immutable
/// once built; decoders and containers share it by reference and address values by node index.
final class JSONDocument {
    private let storage: UnsafeMutableBufferPointer<UInt8>
    let nodes: [JSONNode]

    /// Parses `input`; throws when it is not one strict RFC 8259 JSON text.
    init(parsing input: some Collection<UInt8>) throws(JSONParseError) {
        let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: input.count)
        let copied = input.withContiguousStorageIfAvailable { source -> Bool in
            if let from = source.baseAddress, let to = storage.baseAddress { to.update(from: from, count: source.count) }
            return true
        }
        if copied == nil { _ = storage.initialize(from: input) }
        do {
            nodes = try JSONParser.parse(UnsafeBufferPointer(storage))
        } catch {
            storage.deallocate()
            throw error
        }
        self.storage = storage
    }

    deinit { storage.deallocate() }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(storage) }

    /// The root value.
    var root: Int { 0 }
    /// A `null` node that belongs to no container: the value of a missing `super` key.
    var absent: Int { nodes.count - 1 }

    /// The index of the value after `index` and its subtree.
    func next(after index: Int) -> Int {
        let node = nodes[index]
        return node.kind.isContainer ? node.end : index + 1
    }

    func token(_ node: JSONNode) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[node.start..<node.end])
    }

    /// The text of the string node at `index`.
    func string(_ index: Int) -> String {
        let node = nodes[index]
        return node.has(JSONNode.escaped)
            ? JSONText.unescape(token(node)) : String(decoding: token(node), as: UTF8.self)
    }

    /// The token of the number node at `index`, as text.
    func numberText(_ index: Int) -> String {
        String(decoding: token(nodes[index]), as: UTF8.self)
    }

    /// Whether the string node at `index` is `key`, by the same `String` equality that
    /// Foundation's dictionary of keys uses (canonical equivalence, so a byte comparison only
    /// settles it for ASCII).
    func keyMatches(_ index: Int, _ key: inout String, keyIsASCII: inout Bool?) -> Bool {
        let node = nodes[index]
        let raw = token(node)
        let sameBytes = key.withUTF8 { k in
            k.count == raw.count && (k.count == 0 || memcmp(k.baseAddress!, raw.baseAddress!, k.count) == 0)
        }
        if sameBytes && !node.has(JSONNode.escaped) { return true }
        if node.flags == 0 {
            if keyIsASCII == nil { keyIsASCII = key.utf8.allSatisfy { $0 < 0x80 } }
            if keyIsASCII == true { return false }
        }
        return string(index) == key
    }

    /// The value node of `key` in the object node `object` (the first, if the key repeats).
    func member(_ key: String, in object: Int) -> Int? {
        var key = key
        var keyIsASCII: Bool?
        var i = object + 1
        for _ in 0..<nodes[object].count {
            if keyMatches(i, &key, keyIsASCII: &keyIsASCII) { return i + 1 }
            i = next(after: i + 1)
        }
        return nil
    }
}

// MARK: - Scalars

extension JSONDocument {
    func valueNotFound(_ type: Any.Type, _ path: [any CodingKey]) -> DecodingError {
        .valueNotFound(type, .init(codingPath: path, debugDescription: "Cannot get value of type \(type) -- found null value instead"))
    }

    func typeMismatch(_ type: Any.Type, _ index: Int, _ path: [any CodingKey]) -> DecodingError {
        .typeMismatch(
            type,
            .init(codingPath: path, debugDescription: "Expected to decode \(type) but found \(nodes[index].kind.foundDescription) instead."))
    }

    func bool(_ index: Int, path: @autoclosure () -> [any CodingKey]) throws -> Bool {
        switch nodes[index].kind {
        case .true: return true
        case .false: return false
        default: throw typeMismatch(Bool.self, index, path())
        }
    }

    func string(_ index: Int, path: @autoclosure () -> [any CodingKey]) throws -> String {
        switch nodes[index].kind {
        case .string: return string(index)
        case .null: throw valueNotFound(String.self, path())
        default: throw typeMismatch(String.self, index, path())
        }
    }

    private func numberMisfit(_ type: Any.Type, _ index: Int, _ path: [any CodingKey]) -> DecodingError {
        .dataCorrupted(.init(codingPath: path, debugDescription: "Parsed JSON number <\(numberText(index))> does not fit in \(type)."))
    }

    /// An integer, as exactly as Foundation: a plain integer token must fit; a token with a
    /// fraction or exponent must be an integral value (`1.0`, `1e2`).
    func integer<T: FixedWidthInteger & Decodable>(_ index: Int, as type: T.Type, path: @autoclosure () -> [any CodingKey]) throws -> T {
        let node = nodes[index]
        guard node.kind == .number else {
            throw node.kind == .null ? valueNotFound(T.self, path()) : typeMismatch(T.self, index, path())
        }
        if !node.has(JSONNode.fractional) {
            guard let value: T = plainInteger(node) else { throw numberMisfit(T.self, index, path()) }
            return value
        }
        // Foundation's route for "34.0": through Double while that is exact (below 2^53), else
        // through its Decimal parser, whose truncating rules are simplest to reproduce by asking it.
        let double = Double(numberText(index)) ?? .nan
        guard let value = T(exactly: double) else { throw numberMisfit(T.self, index, path()) }
        if double.magnitude < 9_007_199_254_740_992 { return value }
        if let exact = try? JSONDecoder().decode(T.self, from: Data(token(node))) { return exact }
        throw numberMisfit(T.self, index, path())
    }

    /// A token of digits (with an optional minus) as `T`, or nil when it does not fit.
    private func plainInteger<T: FixedWidthInteger>(_ node: JSONNode) -> T? {
        let raw = token(node)
        var i = 0
        let negative = raw[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        var value: T = 0
        while i < raw.count {
            let digit = T(truncatingIfNeeded: raw[i] &- UInt8(ascii: "0"))
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = next
            i += 1
        }
        return value
    }

    /// A floating-point number parsed by the standard library (strtod/strtof); like Foundation, a
    /// value that overflows to infinity or underflows to zero is an error.
    func floatingPoint<T: BinaryFloatingPoint & LosslessStringConvertible>(
        _ index: Int, as type: T.Type, path: @autoclosure () -> [any CodingKey]
    ) throws -> T {
        let node = nodes[index]
        guard node.kind == .number else {
            throw node.kind == .null ? valueNotFound(T.self, path()) : typeMismatch(T.self, index, path())
        }
        if T.self == Double.self, !node.has(JSONNode.fractional), node.end - node.start <= 16,
            let integer: Int64 = plainInteger(node)
        {
            // Up to 15 digits: exact as a Double, and faster than strtod. "-0" stays negative.
            let negativeZero = integer == 0 && bytes[node.start] == UInt8(ascii: "-")
            return (negativeZero ? -0.0 : Double(integer)) as! T
        }
        guard let value = T(numberText(index)), value.isFinite, value != 0 || isTrueZero(node) else {
            throw numberMisfit(T.self, index, path())
        }
        return value
    }

    /// Whether a number token spells zero (no digit 1-9 before its exponent).
    private func isTrueZero(_ node: JSONNode) -> Bool {
        for b in token(node) {
            if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") { return true }
            if b >= UInt8(ascii: "1") && b <= UInt8(ascii: "9") { return false }
        }
        return true
    }
}
