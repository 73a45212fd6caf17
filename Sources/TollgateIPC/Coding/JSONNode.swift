/// What a parsed JSON value is.
enum JSONKind: UInt8 {
    case null, `true`, `false`, number, string, array, object

    var isContainer: Bool { self == .array || self == .object }

    /// How Foundation's decoder names a value it did not expect ("… but found a string instead").
    var foundDescription: String {
        switch self {
        case .null: "null"
        case .true, .false: "bool"
        case .number: "number"
        case .string: "a string"
        case .array: "an array"
        case .object: "a dictionary"
        }
    }
}

/// One value of a parsed document, in document order: a container is followed by its children
/// (for an object: key, value, key, value ...), so a document is one flat array of nodes.
struct JSONNode {
    var kind: JSONKind
    /// ``escaped`` and ``nonASCII`` for strings, ``fractional`` for numbers.
    var flags: UInt8
    /// Strings and numbers: the token's first byte (strings: after the opening quote).
    /// Containers: the offset of the bracket.
    var start: Int
    /// Strings and numbers: the offset just after the token (strings: of the closing quote).
    /// Containers: the index of the first node after this container's subtree.
    var end: Int
    /// Containers: the number of elements (members, for an object).
    var count: Int
}

extension JSONNode {
    /// A string whose token holds backslash escapes.
    static let escaped: UInt8 = 1
    /// A string whose token holds bytes above 0x7F.
    static let nonASCII: UInt8 = 2
    /// A number with a fraction or an exponent.
    static let fractional: UInt8 = 1

    func has(_ flag: UInt8) -> Bool { flags & flag != 0 }
}
