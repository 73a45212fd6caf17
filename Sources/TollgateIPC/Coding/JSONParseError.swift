/// Why some bytes are not one strict RFC 8259 JSON text, and where the parser stopped.
struct JSONParseError: Error, CustomStringConvertible {
    let reason: String
    let offset: Int

    var description: String { "\(reason) at byte \(offset)" }
}
