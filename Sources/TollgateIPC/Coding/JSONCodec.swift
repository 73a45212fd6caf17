import Foundation

/// The JSON codec of the IPC layer: Codable values to compact JSON bytes and back, producing
/// the same bytes as Foundation's `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes`,
/// and decoding what Foundation's `JSONDecoder` decodes (from strict RFC 8259 JSON only) with
/// the same `DecodingError`s.
enum JSONCodec {
    /// The JSON of `value`, after `headerBytes` zero bytes (room for a frame header).
    static func encode<T: Encodable>(_ value: T, headerBytes: Int = 0) throws -> [UInt8] {
        let writer = JSONWriter(capacity: 256 + headerBytes)
        writer.bytes.append(contentsOf: repeatElement(0, count: headerBytes))
        do {
            try writer.encodeRoot(value)
        } catch {
            guard writer.needsFallback else { throw error }
        }
        guard writer.needsFallback else { return writer.bytes.array() }
        // The value used the Encoder in a way the streaming writer does not reproduce: Foundation
        // decides (the bytes, or the error).
        var bytes = [UInt8](repeating: 0, count: headerBytes)
        bytes.append(contentsOf: try IPCCoding.makeEncoder().encode(value))
        return bytes
    }

    /// Decodes a `T` from `bytes`, which must be one strict RFC 8259 JSON text.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        try document(bytes).decode(T.self, at: 0, in: .root, key: nil)
    }

    /// Parses `bytes`; an error is the `DecodingError` Foundation reports for invalid JSON.
    static func document(_ bytes: some Collection<UInt8>) throws -> JSONDocument {
        do {
            return try JSONDocument(parsing: bytes)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "The given data was not valid JSON.", underlyingError: error))
        }
    }
}
