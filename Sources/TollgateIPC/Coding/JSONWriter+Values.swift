import Foundation

extension JSONWriter {
    /// Encodes `value` as the top-level value.
    func encodeRoot<T: Encodable>(_ value: T) throws {
        if try writeDirectly(value) { return }
        let slot = beginSlot()
        try value.encode(to: JSONByteEncoder(writer: self, slot: slot, path: .root))
        if pendingSlot == slot {
            throw EncodingError.invalidValue(
                value, .init(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
        }
        finish()
    }

    /// Encodes `value` where the writer expects a value next (after a key or a comma). With
    /// `slot`, the value fills that slot (a single-value container passing on a value).
    /// `container` is the path of the container and `key` the value's key in it (nil: the
    /// container's own value); the path node is only made for a nested encoder.
    func encodeValue<T: Encodable>(_ value: T, in container: CodingPathRef, key: (any CodingKey)?, reusing slot: Int? = nil) throws {
        let path = { key.map { container.appending($0) } ?? container }
        if let slot {
            guard slot != 0, pendingSlot == slot else { throw fallBack() }
            if try writeDirectly(value) {
                pendingSlot = 0
                return
            }
            try value.encode(to: JSONByteEncoder(writer: self, slot: slot, path: path()))
            return
        }
        if try writeDirectly(value) { return }
        let slot = beginSlot()
        do {
            try value.encode(to: JSONByteEncoder(writer: self, slot: slot, path: path()))
        } catch {
            // If someone up the stack catches this and goes on, the output may hold a key without
            // its value: let Foundation redo the whole value.
            needsFallback = true
            throw error
        }
        endSlot(slot)
    }

    /// The values written without going through an `Encoder`: ``JSONValue`` trees (exactly as
    /// `JSONValue.encode(to:)` renders them), and the types Foundation's `JSONEncoder` renders in
    /// its own way (`Data` as Base64, `URL` as its absolute string, `Decimal` as a number), for
    /// which it is asked directly so that the bytes match.
    private func writeDirectly<T: Encodable>(_ value: T) throws -> Bool {
        if T.self == JSONValue.self { return writeFast(value as! JSONValue) }
        if T.self == [String: JSONValue].self { return writeFast(.object(value as! [String: JSONValue])) }
        if T.self == Data.self || T.self == URL.self || T.self == Decimal.self {
            try IPCCoding.makeEncoder().encode(value).withUnsafeBytes { bytes.append($0) }
            return true
        }
        return false
    }

    /// Writes `value` in one go; false (and nothing written) when it holds a number Foundation
    /// refuses or nests too deeply — the caller then takes the general route, which reports it.
    private func writeFast(_ value: JSONValue) -> Bool {
        let mark = bytes.count
        if writeJSONValue(value, depth: depth) { return true }
        bytes.truncate(to: mark)
        return false
    }

    private func writeJSONValue(_ value: JSONValue, depth: Int) -> Bool {
        switch value {
        case .null: writeNull()
        case .bool(let b): writeBool(b)
        case .string(let s): writeString(s)
        case .number(let n):
            // The rendering of JSONValue.encode(to:): integral values below 1e15 as integers.
            if n == n.rounded(), abs(n) < 1e15 {
                writeInteger(Int64(n))
            } else {
                guard n.isFinite else { return false }
                writeFloatingPoint(n)
            }
        case .array(let array):
            guard depth < Self.maxDepth else { return false }
            bytes.append(UInt8(ascii: "["))
            for (i, element) in array.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                guard writeJSONValue(element, depth: depth + 1) else { return false }
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            guard depth < Self.maxDepth else { return false }
            bytes.append(UInt8(ascii: "{"))
            if object.count == 1, let member = object.first {
                writeString(member.key)
                bytes.append(UInt8(ascii: ":"))
                guard writeJSONValue(member.value, depth: depth + 1) else { return false }
            } else {
                for (i, member) in object.sorted(by: { JSONText.utf8Precedes($0.key, $1.key) }).enumerated() {
                    if i > 0 { bytes.append(UInt8(ascii: ",")) }
                    writeString(member.key)
                    bytes.append(UInt8(ascii: ":"))
                    guard writeJSONValue(member.value, depth: depth + 1) else { return false }
                }
            }
            bytes.append(UInt8(ascii: "}"))
        }
        return true
    }
}
