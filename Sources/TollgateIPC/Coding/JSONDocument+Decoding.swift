import Foundation

extension JSONDocument {
    /// Decodes the value at `index` as `T`. `container` is the path of the container holding it
    /// and `key` its key there (nil: the value is the container's own, as in a single-value
    /// container). The path node is only allocated when a nested decoder needs it.
    func decode<T: Decodable>(_ type: T.Type, at index: Int, in container: CodingPathRef, key: (any CodingKey)?) throws -> T {
        if T.self == JSONValue.self, let value = jsonValue(index) { return value as! T }
        if T.self == [String: JSONValue].self, case .object(let object)? = jsonValue(index) { return object as! T }
        if T.self == Data.self || T.self == URL.self || T.self == Decimal.self {
            return try decodeWithFoundation(T.self, at: index, path: Self.child(container, key).keys)
        }
        return try T(from: JSONNodeDecoder(document: self, index: index, path: Self.child(container, key)))
    }

    static func child(_ container: CodingPathRef, _ key: (any CodingKey)?) -> CodingPathRef {
        guard let key else { return container }
        return container.appending(key)
    }

    // MARK: Errors shared by decoders and containers

    func keyedContainerError(_ index: Int, _ path: [any CodingKey]) -> DecodingError {
        if nodes[index].kind == .null {
            return .valueNotFound(
                [String: Any].self, .init(codingPath: path, debugDescription: "Cannot get keyed decoding container -- found null value instead"))
        }
        return typeMismatch([String: Any].self, index, path)
    }

    func unkeyedContainerError(_ index: Int, _ path: [any CodingKey]) -> DecodingError {
        if nodes[index].kind == .null {
            return .valueNotFound(
                [Any].self, .init(codingPath: path, debugDescription: "Cannot get unkeyed decoding container -- found null value instead"))
        }
        return typeMismatch([Any].self, index, path)
    }

    // MARK: Foundation's special cases

    /// `Data` (Base64 text), `URL` (a string) and `Decimal` (a number), which Foundation's
    /// `JSONDecoder` reads in its own way rather than through their `Decodable` conformances. The
    /// kind of value is checked here; the conversion of the token itself is left to Foundation so
    /// that it matches exactly.
    private func decodeWithFoundation<T: Decodable>(_ type: T.Type, at index: Int, path: [any CodingKey]) throws -> T {
        let node = nodes[index]
        let wanted: JSONKind = T.self == Decimal.self ? .number : .string
        guard node.kind == wanted else {
            if node.kind == .null { throw valueNotFound(T.self, path) }
            if T.self == Decimal.self { throw DecodingError.typeMismatch(Decimal.self, .init(codingPath: path, debugDescription: "")) }
            throw typeMismatch(String.self, index, path)
        }
        let range = wanted == .string ? (node.start - 1)..<(node.end + 1) : node.start..<node.end
        do {
            return try JSONDecoder().decode(T.self, from: Data(UnsafeBufferPointer(rebasing: bytes[range])))
        } catch let DecodingError.dataCorrupted(context) {
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: context.debugDescription))
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(error)"))
        }
    }

    // MARK: JSONValue

    /// The value at `index` as a ``JSONValue``, or nil when a number in it is not representable
    /// as a Double (the caller then takes the slow path, which reports it as Foundation would).
    func jsonValue(_ index: Int) -> JSONValue? {
        let node = nodes[index]
        switch node.kind {
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .number: return (try? floatingPoint(index, as: Double.self, path: [])).map { .number($0) }
        case .string: return .string(string(index))
        case .array:
            var array: [JSONValue] = []
            array.reserveCapacity(node.count)
            var i = index + 1
            for _ in 0..<node.count {
                guard let element = jsonValue(i) else { return nil }
                array.append(element)
                i = next(after: i)
            }
            return .array(array)
        case .object:
            var object: [String: JSONValue] = [:]
            object.reserveCapacity(node.count)
            var i = index + 1
            for _ in 0..<node.count {
                let key = string(i)
                if object[key] == nil {  // the first of repeated keys wins, as with Foundation
                    guard let value = jsonValue(i + 1) else { return nil }
                    object[key] = value
                }
                i = next(after: i + 1)
            }
            return .object(object)
        }
    }
}
