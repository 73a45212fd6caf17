/// The protocol version this build speaks, and every version it accepts.
public enum IPCVersion {
    public static let current = 1
    public static let supported: [Int] = [1]
}

/// The envelope members every message has; decoded first, before the body's type is known.
struct IPCHeader: Decodable {
    var v: Int
    var id: String
    var type: String
}

/// The same members, each optional: used to say precisely which one is missing.
struct IPCLooseHeader: Decodable {
    var v: Int?
    var id: String?
    var type: String?

    enum CodingKeys: String, CodingKey { case v, id, type }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        v = try? c.decodeIfPresent(Int.self, forKey: .v)
        id = try? c.decodeIfPresent(String.self, forKey: .id)
        type = try? c.decodeIfPresent(String.self, forKey: .type)
    }
}

/// A request as it travels: envelope plus a typed body.
public struct IPCRequestEnvelope<Body: Codable & Sendable>: Codable, Sendable {
    public var v: Int
    public var id: String
    public var type: String
    public var body: Body

    public init(v: Int = IPCVersion.current, id: String, type: String, body: Body) {
        self.v = v
        self.id = id
        self.type = type
        self.body = body
    }
}

/// An `ok` reply with its typed body.
public struct IPCOkEnvelope<Body: Codable & Sendable>: Codable, Sendable {
    public var v: Int
    public var id: String
    public var type: String
    public var body: Body

    public init(v: Int = IPCVersion.current, id: String, body: Body) {
        self.v = v
        self.id = id
        self.type = "ok"
        self.body = body
    }
}

/// An `error` reply. `id` is absent when the request's id could not be read.
public struct IPCErrorEnvelope: Codable, Sendable {
    public var v: Int
    public var id: String?
    public var type: String
    public var error: IPCError

    public init(v: Int = IPCVersion.current, id: String?, error: IPCError) {
        self.v = v
        self.id = id
        self.type = "error"
        self.error = error
    }
}

extension IPCHeader {
    /// Whether `id` has the shape the spec allows: 1–64 of `[A-Za-z0-9._:-]`.
    static func isValidID(_ id: String) -> Bool {
        guard !id.isEmpty, id.utf8.count <= 64 else { return false }
        return id.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: ":")
                || b == UInt8(ascii: "-")
        }
    }
}
