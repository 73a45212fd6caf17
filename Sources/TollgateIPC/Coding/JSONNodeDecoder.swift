/// The `Decoder` of one value of a ``JSONDocument`` (by node index); it is its own single-value
/// container. Creating one costs nothing beyond the struct: the document is shared and the coding
/// path is built on demand.
struct JSONNodeDecoder: Decoder, SingleValueDecodingContainer {
    let document: JSONDocument
    let index: Int
    let path: CodingPathRef

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard document.nodes[index].kind == .object else { throw document.keyedContainerError(index, path.keys) }
        return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(document: document, object: index, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard document.nodes[index].kind == .array else { throw document.unkeyedContainerError(index, path.keys) }
        return JSONUnkeyedDecodingContainer(document: document, array: index, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: SingleValueDecodingContainer

    func decodeNil() -> Bool { document.nodes[index].kind == .null }
    func decode(_: Bool.Type) throws -> Bool { try document.bool(index, path: path.keys) }
    func decode(_: String.Type) throws -> String { try document.string(index, path: path.keys) }
    func decode(_: Double.Type) throws -> Double { try document.floatingPoint(index, as: Double.self, path: path.keys) }
    func decode(_: Float.Type) throws -> Float { try document.floatingPoint(index, as: Float.self, path: path.keys) }
    func decode(_: Int.Type) throws -> Int { try document.integer(index, as: Int.self, path: path.keys) }
    func decode(_: Int8.Type) throws -> Int8 { try document.integer(index, as: Int8.self, path: path.keys) }
    func decode(_: Int16.Type) throws -> Int16 { try document.integer(index, as: Int16.self, path: path.keys) }
    func decode(_: Int32.Type) throws -> Int32 { try document.integer(index, as: Int32.self, path: path.keys) }
    func decode(_: Int64.Type) throws -> Int64 { try document.integer(index, as: Int64.self, path: path.keys) }
    func decode(_: UInt.Type) throws -> UInt { try document.integer(index, as: UInt.self, path: path.keys) }
    func decode(_: UInt8.Type) throws -> UInt8 { try document.integer(index, as: UInt8.self, path: path.keys) }
    func decode(_: UInt16.Type) throws -> UInt16 { try document.integer(index, as: UInt16.self, path: path.keys) }
    func decode(_: UInt32.Type) throws -> UInt32 { try document.integer(index, as: UInt32.self, path: path.keys) }
    func decode(_: UInt64.Type) throws -> UInt64 { try document.integer(index, as: UInt64.self, path: path.keys) }
    @available(macOS 15.0, *)
    func decode(_: Int128.Type) throws -> Int128 { try document.integer(index, as: Int128.self, path: path.keys) }
    @available(macOS 15.0, *)
    func decode(_: UInt128.Type) throws -> UInt128 { try document.integer(index, as: UInt128.self, path: path.keys) }

    func decode<T: Decodable>(_: T.Type) throws -> T {
        try document.decode(T.self, at: index, in: path, key: nil)
    }
}
