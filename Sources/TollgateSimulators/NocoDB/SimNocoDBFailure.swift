/// A refusal of the simulated API, rendered in one of NocoDB's two error body shapes.
enum SimNocoDBFailure: Error, Sendable, Equatable {
    case unauthorized
    case tableNotFound(String)
    case recordNotFound(String)
    case columnNotFound(String)
    case unprocessable(String)
    case badRequest(String)

    var status: Int {
        switch self {
        case .unauthorized: 401
        case .tableNotFound, .recordNotFound: 404
        case .columnNotFound, .unprocessable: 422
        case .badRequest: 400
        }
    }

    /// The JSON body: `{"msg": ...}` for 401/422/400; for 404 `{"error": "ERR_...", "message": ...}`
    /// (or `{"msg": ...}` when the simulator plays an older build).
    func body(legacy: Bool) -> [String: String] {
        switch self {
        case .unauthorized: ["msg": "Invalid token"]
        case .tableNotFound(let t):
            legacy ? ["msg": "Table '\(t)' not found"] : ["error": "ERR_TABLE_NOT_FOUND", "message": "Table '\(t)' not found"]
        case .recordNotFound(let id):
            legacy
                ? ["msg": "Record '\(id)' not found"]
                : ["error": "ERR_RECORD_NOT_FOUND", "message": "Record '\(id)' not found"]
        case .columnNotFound(let c): ["msg": "Column alias '\(c)' not found."]
        case .unprocessable(let m), .badRequest(let m): ["msg": m]
        }
    }
}
