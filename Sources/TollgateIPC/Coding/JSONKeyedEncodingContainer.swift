/// A keyed container writing the members of one object (``JSONWriter`` sorts them on close).
struct JSONKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: JSONWriter
    /// The slot id of the object's frame in the writer (0: none, every write falls back).
    let frame: Int
    let path: CodingPathRef

    init(writer: JSONWriter, frame: Int, path: CodingPathRef) {
        self.writer = writer
        self.frame = frame
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }

    private func childPath(_ key: any CodingKey) -> CodingPathRef {
        path.appending(key)
    }

    private func begin(_ key: Key) throws {
        try writer.beginMember(in: frame, key: key.stringValue)
    }

    mutating func encodeNil(forKey key: Key) throws {
        try begin(key)
        writer.writeNull()
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try begin(key)
        writer.writeBool(value)
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        try begin(key)
        writer.writeString(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws { try float(value, key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try float(value, key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try integer(Int64(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try integer(Int64(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try integer(Int64(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try integer(Int64(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try integer(Int64(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try integer(UInt64(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try integer(UInt64(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try integer(UInt64(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try integer(UInt64(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try integer(UInt64(value), key) }
    @available(macOS 15.0, *)
    mutating func encode(_ value: Int128, forKey key: Key) throws { try integer(value, key) }
    @available(macOS 15.0, *)
    mutating func encode(_ value: UInt128, forKey key: Key) throws { try integer(value, key) }

    @inline(__always)
    private func integer(_ value: Int64, _ key: Key) throws {
        try begin(key)
        writer.writeInteger(value)
    }

    @inline(__always)
    private func integer(_ value: UInt64, _ key: Key) throws {
        try begin(key)
        writer.writeInteger(value)
    }

    @inline(__always)
    private func integer<T: FixedWidthInteger>(_ value: T, _ key: Key) throws {
        try begin(key)
        writer.writeInteger(value)
    }

    @inline(__always)
    private func float(_ value: Double, _ key: Key) throws {
        if JSONWriter.refuses(value) { throw JSONWriter.invalidNumber(value, path.keys(appending: key)) }
        try begin(key)
        writer.writeFloatingPoint(value)
    }

    @inline(__always)
    private func float(_ value: Float, _ key: Key) throws {
        if JSONWriter.refuses(value) { throw JSONWriter.invalidNumber(value, path.keys(appending: key)) }
        try begin(key)
        writer.writeFloatingPoint(value)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try begin(key)
        try writer.encodeValue(value, in: path, key: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let frame = (try? begin(key)) != nil ? writer.openContainer(for: writer.beginSlot(), isObject: true) : 0
        return KeyedEncodingContainer(JSONKeyedEncodingContainer<NestedKey>(writer: writer, frame: frame, path: childPath(key)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let frame = (try? begin(key)) != nil ? writer.openContainer(for: writer.beginSlot(), isObject: false) : 0
        return JSONUnkeyedEncodingContainer(writer: writer, frame: frame, path: childPath(key))
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: JSONStringKey.super) }

    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key) }

    /// An encoder for the value of `key`, which stays open until it is used or the next write to
    /// this object (an unused one is `{}`, as with Foundation).
    private mutating func superEncoder(named key: any CodingKey) -> any Encoder {
        let slot = (try? writer.beginMember(in: frame, key: key.stringValue)) != nil ? writer.beginSlot() : 0
        return JSONByteEncoder(writer: writer, slot: slot, path: childPath(key))
    }
}
