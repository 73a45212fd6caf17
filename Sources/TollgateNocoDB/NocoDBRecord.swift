/// One row of a NocoDB table as the API returns it: field name → value, system fields included
/// (`Id`, `CreatedAt`, `UpdatedAt`).
public struct NocoDBRecord: Sendable, Hashable, Codable {
    public var fields: [String: NocoDBValue]

    public init(_ fields: [String: NocoDBValue] = [:]) { self.fields = fields }

    public init(from decoder: any Decoder) throws {
        fields = try decoder.singleValueContainer().decode([String: NocoDBValue].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(fields)
    }

    public subscript(field: String) -> NocoDBValue? {
        get { fields[field] }
        set { fields[field] = newValue }
    }

    /// The row's `Id` (the primary key), when present.
    public var id: Int64? { fields["Id"]?.int }

    /// The row's `UpdatedAt` as Unix milliseconds, when present and readable.
    public var updatedAtMs: Int64? { fields["UpdatedAt"]?.text.flatMap(NocoDBTimestamp.parse) }
}
