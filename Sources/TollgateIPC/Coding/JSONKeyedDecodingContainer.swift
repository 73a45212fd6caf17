/// The keyed container over one object node. Keys are found by scanning the members (objects in
/// IPC messages are small); a repeated key resolves to its first occurrence, as with Foundation.
struct JSONKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let document: JSONDocument
    let object: Int
    let path: CodingPathRef

    var codingPath: [any CodingKey] { path.keys }

    var allKeys: [Key] {
        var seen = Set<String>()
        var keys: [Key] = []
        var i = object + 1
        for _ in 0..<document.nodes[object].count {
            let name = document.string(i)
            if seen.insert(name).inserted, let key = Key(stringValue: name) { keys.append(key) }
            i = document.next(after: i + 1)
        }
        return keys
    }

    func contains(_ key: Key) -> Bool { document.member(key.stringValue, in: object) != nil }

    private func value(_ key: Key) throws -> Int {
        guard let index = document.member(key.stringValue, in: object) else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: path.keys, debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return index
    }

    /// The value of `key` unless it is absent or null.
    private func present(_ key: Key) -> Int? {
        guard let index = document.member(key.stringValue, in: object), document.nodes[index].kind != .null else { return nil }
        return index
    }

    func decodeNil(forKey key: Key) throws -> Bool { document.nodes[try value(key)].kind == .null }

    func decode(_: Bool.Type, forKey key: Key) throws -> Bool {
        try document.bool(try value(key), path: path.keys(appending: key))
    }
    func decode(_: String.Type, forKey key: Key) throws -> String {
        try document.string(try value(key), path: path.keys(appending: key))
    }
    func decode(_: Double.Type, forKey key: Key) throws -> Double { try float(Double.self, key) }
    func decode(_: Float.Type, forKey key: Key) throws -> Float { try float(Float.self, key) }
    func decode(_: Int.Type, forKey key: Key) throws -> Int { try integer(Int.self, key) }
    func decode(_: Int8.Type, forKey key: Key) throws -> Int8 { try integer(Int8.self, key) }
    func decode(_: Int16.Type, forKey key: Key) throws -> Int16 { try integer(Int16.self, key) }
    func decode(_: Int32.Type, forKey key: Key) throws -> Int32 { try integer(Int32.self, key) }
    func decode(_: Int64.Type, forKey key: Key) throws -> Int64 { try integer(Int64.self, key) }
    func decode(_: UInt.Type, forKey key: Key) throws -> UInt { try integer(UInt.self, key) }
    func decode(_: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(UInt8.self, key) }
    func decode(_: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(UInt16.self, key) }
    func decode(_: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(UInt32.self, key) }
    func decode(_: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(UInt64.self, key) }
    @available(macOS 15.0, *)
    func decode(_: Int128.Type, forKey key: Key) throws -> Int128 { try integer(Int128.self, key) }
    @available(macOS 15.0, *)
    func decode(_: UInt128.Type, forKey key: Key) throws -> UInt128 { try integer(UInt128.self, key) }

    func decode<T: Decodable>(_: T.Type, forKey key: Key) throws -> T {
        try document.decode(T.self, at: try value(key), in: path, key: key)
    }

    @inline(__always)
    private func integer<T: FixedWidthInteger & Decodable>(_: T.Type, _ key: Key) throws -> T {
        try document.integer(try value(key), as: T.self, path: path.keys(appending: key))
    }

    @inline(__always)
    private func float<T: BinaryFloatingPoint & LosslessStringConvertible>(_: T.Type, _ key: Key) throws -> T {
        try document.floatingPoint(try value(key), as: T.self, path: path.keys(appending: key))
    }

    // One lookup instead of the default contains + decodeNil + decode.
    func decodeIfPresent(_: Bool.Type, forKey key: Key) throws -> Bool? {
        try present(key).map { try document.bool($0, path: path.keys(appending: key)) }
    }
    func decodeIfPresent(_: String.Type, forKey key: Key) throws -> String? {
        try present(key).map { try document.string($0, path: path.keys(appending: key)) }
    }
    func decodeIfPresent(_: Double.Type, forKey key: Key) throws -> Double? {
        try present(key).map { try document.floatingPoint($0, as: Double.self, path: path.keys(appending: key)) }
    }
    func decodeIfPresent(_: Int.Type, forKey key: Key) throws -> Int? {
        try present(key).map { try document.integer($0, as: Int.self, path: path.keys(appending: key)) }
    }
    func decodeIfPresent(_: Int64.Type, forKey key: Key) throws -> Int64? {
        try present(key).map { try document.integer($0, as: Int64.self, path: path.keys(appending: key)) }
    }
    func decodeIfPresent<T: Decodable>(_: T.Type, forKey key: Key) throws -> T? {
        try present(key).map { try document.decode(T.self, at: $0, in: path, key: key) }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        let index = try value(key)
        guard document.nodes[index].kind == .object else { throw document.keyedContainerError(index, path.keys(appending: key)) }
        return KeyedDecodingContainer(
            JSONKeyedDecodingContainer<NestedKey>(document: document, object: index, path: JSONDocument.child(path, key)))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let index = try value(key)
        guard document.nodes[index].kind == .array else { throw document.unkeyedContainerError(index, path.keys(appending: key)) }
        return JSONUnkeyedDecodingContainer(document: document, array: index, path: JSONDocument.child(path, key))
    }

    func superDecoder() throws -> any Decoder { superDecoder(named: JSONStringKey.super) }

    func superDecoder(forKey key: Key) throws -> any Decoder { superDecoder(named: key) }

    /// A decoder for the value of `key`; an absent key decodes as null.
    private func superDecoder(named key: any CodingKey) -> any Decoder {
        let index = document.member(key.stringValue, in: object) ?? document.absent
        return JSONNodeDecoder(document: document, index: index, path: JSONDocument.child(path, key))
    }
}
