/// A stable error code of the IPC protocol (Protocols/README.md, "Errors").
///
/// A struct rather than an enum so that a code sent by a newer peer still decodes; callers compare
/// against the static members and treat anything else as ``internal``.
public struct IPCErrorCode: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
    public var description: String { rawValue }

    // Sent by servers.
    public static let invalidJSON = Self(rawValue: "invalid_json")
    public static let frameTooLarge = Self(rawValue: "frame_too_large")
    public static let invalidEnvelope = Self(rawValue: "invalid_envelope")
    public static let unsupportedVersion = Self(rawValue: "unsupported_version")
    public static let unknownType = Self(rawValue: "unknown_type")
    public static let invalidRequest = Self(rawValue: "invalid_request")
    /// A job's `payload` does not have its kind's shape (`details.field` names the member).
    public static let invalidPayload = Self(rawValue: "invalid_payload")
    public static let notFound = Self(rawValue: "not_found")
    public static let conflict = Self(rawValue: "conflict")
    public static let rateLimited = Self(rawValue: "rate_limited")
    public static let unavailable = Self(rawValue: "unavailable")
    public static let shuttingDown = Self(rawValue: "shutting_down")
    public static let `internal` = Self(rawValue: "internal")

    // Raised on the client side, never sent.
    public static let connectFailed = Self(rawValue: "connect_failed")
    public static let connectionClosed = Self(rawValue: "connection_closed")
    public static let timeout = Self(rawValue: "timeout")
    public static let cancelled = Self(rawValue: "cancelled")

    /// Codes a caller may retry (possibly after `retry_after_ms`).
    public var isRetryable: Bool {
        switch self {
        case .rateLimited, .unavailable, .shuttingDown, .connectFailed, .connectionClosed, .timeout: true
        default: false
        }
    }
}
