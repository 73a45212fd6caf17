/// An unkeyed container writing the elements of one array.
struct JSONUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let writer: JSONWriter
    /// The slot id of the array's frame in the writer (0: none, every write falls back).
    let frame: Int
    let path: CodingPathRef

    init(writer: JSONWriter, frame: Int, path: CodingPathRef) {
        self.writer = writer
        self.frame = frame
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }
    var count: Int { writer.count(of: frame) }

    /// The path of the next element, `Index n` (before it is begun).
    private func nextPath() -> CodingPathRef {
        path.appending(JSONIndexKey(count))
    }

    mutating func encodeNil() throws {
        try writer.beginElement(in: frame)
        writer.writeNull()
    }

    mutating func encode(_ value: Bool) throws {
        try writer.beginElement(in: frame)
        writer.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        try writer.beginElement(in: frame)
        writer.writeString(value)
    }

    mutating func encode(_ value: Double) throws { try float(value) }
    mutating func encode(_ value: Float) throws { try float(value) }
    mutating func encode(_ value: Int) throws { try integer(Int64(value)) }
    mutating func encode(_ value: Int8) throws { try integer(Int64(value)) }
    mutating func encode(_ value: Int16) throws { try integer(Int64(value)) }
    mutating func encode(_ value: Int32) throws { try integer(Int64(value)) }
    mutating func encode(_ value: Int64) throws { try integer(Int64(value)) }
    mutating func encode(_ value: UInt) throws { try integer(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try integer(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { try integer(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { try integer(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { try integer(UInt64(value)) }
    @available(macOS 15.0, *)
    mutating func encode(_ value: Int128) throws { try integer(value) }
    @available(macOS 15.0, *)
    mutating func encode(_ value: UInt128) throws { try integer(value) }

    @inline(__always)
    private func integer(_ value: Int64) throws {
        try writer.beginElement(in: frame)
        writer.writeInteger(value)
    }

    @inline(__always)
    private func integer(_ value: UInt64) throws {
        try writer.beginElement(in: frame)
        writer.writeInteger(value)
    }

    @inline(__always)
    private func integer<T: FixedWidthInteger>(_ value: T) throws {
        try writer.beginElement(in: frame)
        writer.writeInteger(value)
    }

    @inline(__always)
    private func float(_ value: Double) throws {
        if JSONWriter.refuses(value) { throw JSONWriter.invalidNumber(value, path.keys(appending: JSONIndexKey(count))) }
        try writer.beginElement(in: frame)
        writer.writeFloatingPoint(value)
    }

    @inline(__always)
    private func float(_ value: Float) throws {
        if JSONWriter.refuses(value) { throw JSONWriter.invalidNumber(value, path.keys(appending: JSONIndexKey(count))) }
        try writer.beginElement(in: frame)
        writer.writeFloatingPoint(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let index = count
        try writer.beginElement(in: frame)
        try writer.encodeValue(value, in: path, key: JSONIndexKey(index))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let elementPath = nextPath()
        let frame = (try? writer.beginElement(in: self.frame)) != nil ? writer.openContainer(for: writer.beginSlot(), isObject: true) : 0
        return KeyedEncodingContainer(JSONKeyedEncodingContainer<NestedKey>(writer: writer, frame: frame, path: elementPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let elementPath = nextPath()
        let frame = (try? writer.beginElement(in: self.frame)) != nil ? writer.openContainer(for: writer.beginSlot(), isObject: false) : 0
        return JSONUnkeyedEncodingContainer(writer: writer, frame: frame, path: elementPath)
    }

    mutating func superEncoder() -> any Encoder {
        let elementPath = nextPath()
        let slot = (try? writer.beginElement(in: frame)) != nil ? writer.beginSlot() : 0
        return JSONByteEncoder(writer: writer, slot: slot, path: elementPath)
    }
}
