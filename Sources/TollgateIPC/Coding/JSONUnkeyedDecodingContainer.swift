/// The unkeyed container over one array node. Like Foundation's, it moves to the next element only
/// when a decode succeeds, and names the element in errors as `Index n`.
struct JSONUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let document: JSONDocument
    let array: Int
    let path: CodingPathRef
    /// The node of the current element.
    private var cursor: Int
    private(set) var currentIndex = 0
    let elementCount: Int

    init(document: JSONDocument, array: Int, path: CodingPathRef) {
        self.document = document
        self.array = array
        self.path = path
        cursor = array + 1
        elementCount = document.nodes[array].count
    }

    var codingPath: [any CodingKey] { path.keys }
    var count: Int? { elementCount }
    var isAtEnd: Bool { currentIndex >= elementCount }

    private var elementPath: [any CodingKey] { path.keys(appending: JSONIndexKey(currentIndex)) }

    private func checkNotAtEnd(_ type: Any.Type) throws {
        guard isAtEnd else { return }
        throw DecodingError.valueNotFound(type, .init(codingPath: elementPath, debugDescription: "Unkeyed container is at end."))
    }

    private mutating func advance() {
        cursor = document.next(after: cursor)
        currentIndex += 1
    }

    mutating func decodeNil() throws -> Bool {
        try checkNotAtEnd(Never.self)
        guard document.nodes[cursor].kind == .null else { return false }
        advance()
        return true
    }

    mutating func decode(_: Bool.Type) throws -> Bool {
        try checkNotAtEnd(Bool.self)
        let value = try document.bool(cursor, path: elementPath)
        advance()
        return value
    }
    mutating func decode(_: String.Type) throws -> String {
        try checkNotAtEnd(String.self)
        let value = try document.string(cursor, path: elementPath)
        advance()
        return value
    }
    mutating func decode(_: Double.Type) throws -> Double { try float(Double.self) }
    mutating func decode(_: Float.Type) throws -> Float { try float(Float.self) }
    mutating func decode(_: Int.Type) throws -> Int { try integer(Int.self) }
    mutating func decode(_: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    mutating func decode(_: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    mutating func decode(_: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    mutating func decode(_: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    mutating func decode(_: UInt.Type) throws -> UInt { try integer(UInt.self) }
    mutating func decode(_: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    mutating func decode(_: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    mutating func decode(_: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    mutating func decode(_: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }
    @available(macOS 15.0, *)
    mutating func decode(_: Int128.Type) throws -> Int128 { try integer(Int128.self) }
    @available(macOS 15.0, *)
    mutating func decode(_: UInt128.Type) throws -> UInt128 { try integer(UInt128.self) }

    @inline(__always)
    private mutating func integer<T: FixedWidthInteger & Decodable>(_: T.Type) throws -> T {
        try checkNotAtEnd(T.self)
        let value = try document.integer(cursor, as: T.self, path: elementPath)
        advance()
        return value
    }

    @inline(__always)
    private mutating func float<T: BinaryFloatingPoint & LosslessStringConvertible>(_: T.Type) throws -> T {
        try checkNotAtEnd(T.self)
        let value = try document.floatingPoint(cursor, as: T.self, path: elementPath)
        advance()
        return value
    }

    mutating func decode<T: Decodable>(_: T.Type) throws -> T {
        try checkNotAtEnd(T.self)
        let value = try document.decode(T.self, at: cursor, in: path, key: JSONIndexKey(currentIndex))
        advance()
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try checkNotAtEnd(KeyedDecodingContainer<NestedKey>.self)
        guard document.nodes[cursor].kind == .object else { throw document.keyedContainerError(cursor, elementPath) }
        let container = JSONKeyedDecodingContainer<NestedKey>(
            document: document, object: cursor, path: JSONDocument.child(path, JSONIndexKey(currentIndex)))
        advance()
        return KeyedDecodingContainer(container)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try checkNotAtEnd((any UnkeyedDecodingContainer).self)
        guard document.nodes[cursor].kind == .array else { throw document.unkeyedContainerError(cursor, elementPath) }
        let container = JSONUnkeyedDecodingContainer(
            document: document, array: cursor, path: JSONDocument.child(path, JSONIndexKey(currentIndex)))
        advance()
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                (any Decoder).self, .init(codingPath: elementPath, debugDescription: "Cannot get superDecoder() -- unkeyed container is at end."))
        }
        let decoder = JSONNodeDecoder(document: document, index: cursor, path: JSONDocument.child(path, JSONIndexKey(currentIndex)))
        advance()
        return decoder
    }
}
