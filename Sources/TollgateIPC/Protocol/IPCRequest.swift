/// A request type of the IPC protocol: its wire `type` string and the body of its `ok` reply.
///
/// Conforming types are the `body` of a request envelope; both services compile against the same
/// definitions in this module, and Protocols/schemas holds the matching JSON Schemas.
public protocol IPCRequest: Codable, Sendable {
    associatedtype Reply: Codable & Sendable
    /// The envelope's `type`, e.g. `"hello"`.
    static var type: String { get }
}

/// An empty JSON object, for requests without parameters.
public struct Empty: Codable, Sendable, Equatable {
    public init() {}
}
