import Foundation

/// A parsed JSON text: its own copy of the bytes and the flat node array over them. Immutable
/// once built; decoders and containers share it by reference and address values by node index.
final class JSONDocument {
    private let storage: UnsafeMutableBufferPointer<UInt8>
    let nodes: [JSONNode]
    /// Key indexes of large objects, built on first lookup (a document serves one decoding call,
    /// on one thread).
    @exclusivity(unchecked) fileprivate var memberIndexes: [Int: [String: Int]] = [:]

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

    /// The value node of `key` in the object node `object` (the first, if the key repeats).
    ///
    /// Keys match by the same `String` equality that Foundation's dictionary of members uses
    /// (canonical equivalence); equal bytes settle it, and so do unequal bytes when both sides are
    /// plain ASCII, which is the common case.
    func member(_ key: String, in object: Int) -> Int? {
        var key = key
        let count = nodes[object].count
        if count > Self.indexedObjectSize { return memberIndex(object)[key] }
        return key.withUTF8 { k -> Int? in
            var keyIsASCII: Bool?
            var i = object + 1
            for _ in 0..<count {
                let node = nodes[i]
                if node.flags == 0 {
                    if node.end - node.start == k.count
                        && (k.count == 0 || memcmp(k.baseAddress!, bytes.baseAddress! + node.start, k.count) == 0)
                    {
                        return i + 1
                    }
                    if keyIsASCII == nil { keyIsASCII = !k.contains { $0 >= 0x80 } }
                    if keyIsASCII == false, string(i) == String(decoding: k, as: UTF8.self) { return i + 1 }
                } else if string(i) == String(decoding: k, as: UTF8.self) {
                    return i + 1
                }
                i = nodes[i + 1].kind.isContainer ? nodes[i + 1].end : i + 2
            }
            return nil
        }
    }
}

extension JSONDocument {
    /// Objects with more members than this are searched through a hash index, so that decoding a
    /// large object key by key stays linear.
    static let indexedObjectSize = 16

    /// Value node by key (`String` equality, first occurrence) for the object node `object`.
    private func memberIndex(_ object: Int) -> [String: Int] {
        if let index = memberIndexes[object] { return index }
        var index: [String: Int] = [:]
        index.reserveCapacity(nodes[object].count)
        var i = object + 1
        for _ in 0..<nodes[object].count {
            let key = string(i)
            if index[key] == nil { index[key] = i + 1 }
            i = next(after: i + 1)
        }
        memberIndexes[object] = index
        return index
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
    @inline(__always)
    func integer<T: FixedWidthInteger & Decodable>(_ index: Int, as type: T.Type, path: @autoclosure () -> [any CodingKey]) throws -> T {
        let node = nodes[index]
        if node.kind == .number && node.flags == 0, let (negative, magnitude) = plainMagnitude(node) {
            if !negative {
                if let value = T(exactly: magnitude) { return value }
            } else if magnitude <= UInt64(Int64.max) {
                if let value = T(exactly: -Int64(magnitude)) { return value }
            } else if magnitude == UInt64(Int64.max) + 1, let value = T(exactly: Int64.min) {
                return value
            }
        }
        return try slowInteger(index, as: T.self, path: path())
    }

    /// Digits with an optional minus, as sign and magnitude; nil past UInt64.
    private func plainMagnitude(_ node: JSONNode) -> (negative: Bool, magnitude: UInt64)? {
        var p = bytes.baseAddress! + node.start
        let end = bytes.baseAddress! + node.end
        let negative = p.pointee == UInt8(ascii: "-")
        if negative { p += 1 }
        var value: UInt64 = 0
        if end - p < 20 {
            while p < end {
                value = value &* 10 &+ UInt64(p.pointee &- UInt8(ascii: "0"))
                p += 1
            }
            return (negative, value)
        }
        while p < end {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(UInt64(p.pointee &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = next
            p += 1
        }
        return (negative, value)
    }

    /// Digits with an optional minus as `T` (for types wider than 64 bits), nil when it does not fit.
    private func plainInteger<T: FixedWidthInteger>(_ node: JSONNode) -> T? {
        let raw = token(node)
        let negative = raw[0] == UInt8(ascii: "-")
        var value: T = 0
        for b in raw.dropFirst(negative ? 1 : 0) {
            let digit = T(truncatingIfNeeded: b &- UInt8(ascii: "0"))
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            if o1 || o2 { return nil }
            value = next
        }
        return value
    }

    private func slowInteger<T: FixedWidthInteger & Decodable>(_ index: Int, as type: T.Type, path: [any CodingKey]) throws -> T {
        let node = nodes[index]
        guard node.kind == .number else {
            throw node.kind == .null ? valueNotFound(T.self, path) : typeMismatch(T.self, index, path)
        }
        if !node.has(JSONNode.fractional) {
            // Past 64 bits: only a 128-bit type can hold it.
            guard T.bitWidth > 64, let value: T = plainInteger(node) else { throw numberMisfit(T.self, index, path) }
            return value
        }
        // Foundation's route for "34.0": through Double while that is exact (below 2^53), else
        // through its Decimal parser, whose truncating rules are simplest to reproduce by asking it.
        let double = Double(numberText(index)) ?? .nan
        guard let value = T(exactly: double) else { throw numberMisfit(T.self, index, path) }
        if double.magnitude < 9_007_199_254_740_992 { return value }
        if let exact = try? JSONDecoder().decode(T.self, from: Data(token(node))) { return exact }
        throw numberMisfit(T.self, index, path)
    }

    /// A floating-point number parsed by the standard library (strtod/strtof); like Foundation, a
    /// value that overflows to infinity or underflows to zero is an error.
    @inline(__always)
    func floatingPoint<T: BinaryFloatingPoint & LosslessStringConvertible>(
        _ index: Int, as type: T.Type, path: @autoclosure () -> [any CodingKey]
    ) throws -> T {
        let node = nodes[index]
        if T.self == Double.self, node.kind == .number, node.flags == 0, node.end - node.start <= 16,
            let (negative, magnitude) = plainMagnitude(node)
        {
            // Up to 15 digits: exact as a Double, and faster than strtod. "-0" stays negative.
            return T(negative ? -Double(magnitude) : Double(magnitude))
        }
        return try parsedFloatingPoint(index, as: T.self, path: path())
    }

    private func parsedFloatingPoint<T: BinaryFloatingPoint & LosslessStringConvertible>(
        _ index: Int, as type: T.Type, path: [any CodingKey]
    ) throws -> T {
        let node = nodes[index]
        guard node.kind == .number else {
            throw node.kind == .null ? valueNotFound(T.self, path) : typeMismatch(T.self, index, path)
        }
        guard let value = T(numberText(index)), value.isFinite, value != 0 || isTrueZero(node) else {
            throw numberMisfit(T.self, index, path)
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
