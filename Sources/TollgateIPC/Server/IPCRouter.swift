import Logging
import TollgateCore

/// What a handler knows about the request it serves.
public struct IPCRequestContext: Sendable {
    public let id: String
    public let version: Int
    public let connection: UInt64
    public let logger: Logger
}

/// Maps request types to handlers and turns one frame payload into one reply payload.
///
/// All protocol rules that do not depend on a service live here, in one pure async function:
/// JSON and envelope validation, version check, unknown types, body decoding with a precise
/// `invalid_request` message, and error replies. Handlers only see typed requests.
public struct IPCRouter: Sendable {
    /// A route reads the request from the frame the router has already parsed (one parse per frame).
    typealias Route = @Sendable (_ frame: JSONDocument, _ context: IPCRequestContext) async -> IPCReplyPayload

    private var routes: [String: Route] = [:]
    /// Turns an error thrown by a handler into a protocol error (a Redis failure into `unavailable`).
    public var mapError: @Sendable (any Error) -> IPCError = { error in
        (error as? IPCError) ?? IPCError(.internal, String(describing: error))
    }

    public init() {}

    /// The registered request types, sorted.
    public var types: [String] { routes.keys.sorted() }

    /// Registers `handler` for requests of type `R`. A later registration for the same type wins.
    public mutating func register<R: IPCRequest>(
        _: R.Type, _ handler: @escaping @Sendable (R, IPCRequestContext) async throws -> R.Reply
    ) {
        let mapError = self.mapError
        routes[R.type] = { frame, context in
            let request: R
            do {
                request = try frame.decode(IPCRequestEnvelope<R>.self, at: frame.root, in: .root, key: nil).body
            } catch {
                return Self.errorPayload(id: context.id, IPCError(.invalidRequest, IPCCoding.explain(error)))
            }
            if let validating = request as? any IPCValidating {
                do throws(IPCError) {
                    try validating.validate()
                } catch {
                    return Self.errorPayload(id: context.id, error)
                }
            }
            do {
                let reply = try await handler(request, context)
                return IPCReplyPayload(
                    bytes: try IPCCoding.encode(IPCOkEnvelope(v: context.version, id: context.id, body: reply)),
                    isError: false)
            } catch {
                let mapped = (error as? IPCError) ?? mapError(error)
                if mapped.code == .internal {
                    context.logger.error(
                        "IPC handler failed", metadata: ["type": "\(R.type)", "error": "\(mapped.message)"])
                }
                return Self.errorPayload(id: context.id, mapped)
            }
        }
    }

    /// Answers one frame. Never throws: every failure becomes an `error` reply.
    public func respond(to payload: [UInt8], connection: UInt64, logger: Logger) async -> IPCReplyPayload {
        let frame: JSONDocument
        let header: IPCLooseHeader
        do {
            frame = try JSONCodec.document(payload)
            header = try frame.decode(IPCLooseHeader.self, at: frame.root, in: .root, key: nil)
        } catch {
            return Self.errorPayload(id: nil, IPCError(.invalidJSON, "frame is not one UTF-8 JSON object"))
        }
        let id = header.id.flatMap { IPCHeader.isValidID($0) ? $0 : nil }
        guard let rawID = header.id else {
            return Self.errorPayload(id: nil, IPCError(.invalidEnvelope, "missing field 'id'"))
        }
        guard let id else {
            return Self.errorPayload(
                id: nil, IPCError(.invalidEnvelope, "field 'id' must be 1-64 characters of A-Z a-z 0-9 . _ : - (got \(rawID.utf8.count) bytes)"))
        }
        guard let v = header.v else {
            return Self.errorPayload(id: id, IPCError(.invalidEnvelope, "missing or non-integer field 'v'"))
        }
        guard IPCVersion.supported.contains(v) else {
            return Self.errorPayload(
                id: id,
                IPCError(
                    .unsupportedVersion, "protocol version \(v) is not supported",
                    details: .object(["supported": .array(IPCVersion.supported.map { .number(Double($0)) })])))
        }
        guard let type = header.type else {
            return Self.errorPayload(id: id, IPCError(.invalidEnvelope, "missing field 'type'"))
        }
        guard let route = routes[type] else {
            let shown = type.count > 40 ? String(type.prefix(40)) + "..." : type
            return Self.errorPayload(id: id, IPCError(.unknownType, "unknown message type '\(shown)'"))
        }
        return await route(frame, IPCRequestContext(id: id, version: v, connection: connection, logger: logger))
    }

    /// An `error` reply payload.
    public static func errorPayload(id: String?, _ error: IPCError) -> IPCReplyPayload {
        // Encoding these types cannot fail; fall back to a fixed frame to stay total anyway.
        let bytes =
            (try? IPCCoding.encode(IPCErrorEnvelope(id: id, error: error)))
            ?? Array(#"{"error":{"code":"internal","message":"encoding failed"},"type":"error","v":1}"#.utf8)
        return IPCReplyPayload(bytes: bytes, isError: true)
    }
}

/// The encoded reply to one request, and whether it is an `error` reply.
public struct IPCReplyPayload: Sendable {
    public var bytes: [UInt8]
    public var isError: Bool
}
