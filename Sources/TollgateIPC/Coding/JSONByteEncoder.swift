/// The `Encoder` of one value position (a slot of a ``JSONWriter``); it is its own single-value
/// container.
struct JSONByteEncoder: Encoder, SingleValueEncodingContainer {
    let writer: JSONWriter
    let slot: Int
    let path: CodingPathRef

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let frame = writer.openContainer(for: slot, isObject: true)
        return KeyedEncodingContainer(JSONKeyedEncodingContainer<Key>(writer: writer, frame: frame, path: path))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        JSONUnkeyedEncodingContainer(writer: writer, frame: writer.openContainer(for: slot, isObject: false), path: path)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    // MARK: SingleValueEncodingContainer

    private func claim() throws {
        guard writer.claim(slot) else { throw writer.fallBack() }
    }

    func encodeNil() throws {
        try claim()
        writer.writeNull()
    }

    func encode(_ value: Bool) throws {
        try claim()
        writer.writeBool(value)
    }

    func encode(_ value: String) throws {
        try claim()
        writer.writeString(value)
    }

    func encode(_ value: Double) throws { try float(value) }
    func encode(_ value: Float) throws { try float(value) }
    func encode(_ value: Int) throws { try integer(Int64(value)) }
    func encode(_ value: Int8) throws { try integer(Int64(value)) }
    func encode(_ value: Int16) throws { try integer(Int64(value)) }
    func encode(_ value: Int32) throws { try integer(Int64(value)) }
    func encode(_ value: Int64) throws { try integer(Int64(value)) }
    func encode(_ value: UInt) throws { try integer(UInt64(value)) }
    func encode(_ value: UInt8) throws { try integer(UInt64(value)) }
    func encode(_ value: UInt16) throws { try integer(UInt64(value)) }
    func encode(_ value: UInt32) throws { try integer(UInt64(value)) }
    func encode(_ value: UInt64) throws { try integer(UInt64(value)) }
    @available(macOS 15.0, *)
    func encode(_ value: Int128) throws { try integer(value) }
    @available(macOS 15.0, *)
    func encode(_ value: UInt128) throws { try integer(value) }

    @inline(__always)
    private func integer(_ value: Int64) throws {
        try claim()
        writer.writeInteger(value)
    }

    @inline(__always)
    private func integer(_ value: UInt64) throws {
        try claim()
        writer.writeInteger(value)
    }

    @inline(__always)
    private func integer<T: FixedWidthInteger>(_ value: T) throws {
        try claim()
        writer.writeInteger(value)
    }

    @inline(__always)
    private func float(_ value: Double) throws {
        if JSONWriter.refuses(value) { throw JSONWriter.invalidNumber(value, path.keys) }
        try claim()
        writer.writeFloatingPoint(value)
    }

    @inline(__always)
    private func float(_ value: Float) throws {
        if JSONWriter.refuses(value) { throw JSONWriter.invalidNumber(value, path.keys) }
        try claim()
        writer.writeFloatingPoint(value)
    }

    func encode<T: Encodable>(_ value: T) throws {
        try writer.encodeValue(value, in: path, key: nil, reusing: slot)
    }
}
