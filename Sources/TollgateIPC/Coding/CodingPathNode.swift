/// One step of a coding path, shared by every value below it: a child encoder or decoder keeps a
/// reference to its parent's node and its own key, so building a path costs nothing until an
/// error (or a caller) asks for it as an array.
final class CodingPathNode {
    let parent: CodingPathNode?
    let key: any CodingKey

    init(parent: CodingPathNode?, key: any CodingKey) {
        self.parent = parent
        self.key = key
    }

    /// The keys from the root down to this node.
    var keys: [any CodingKey] {
        var reversed: [any CodingKey] = []
        var node: CodingPathNode? = self
        while let n = node {
            reversed.append(n.key)
            node = n.parent
        }
        return reversed.reversed()
    }
}

/// Where a value sits: the node of its coding path (nil at the root). One word, so that encoders
/// and decoders that carry it fit in an existential's inline buffer (no box per nested value).
struct CodingPathRef {
    var node: CodingPathNode?

    static var root: CodingPathRef { CodingPathRef(node: nil) }

    var keys: [any CodingKey] { node?.keys ?? [] }

    /// The keys of this position followed by `key` (for errors; allocates nothing else).
    func keys(appending key: any CodingKey) -> [any CodingKey] {
        var keys = self.keys
        keys.append(key)
        return keys
    }

    /// The position of the value at `key` below this one.
    func appending(_ key: any CodingKey) -> CodingPathRef {
        CodingPathRef(node: CodingPathNode(parent: node, key: key))
    }
}

/// The key of an array element in a coding path: `intValue` is the index and `stringValue`
/// reads "Index 3", as Foundation's JSON coders name it.
struct JSONIndexKey: CodingKey {
    let index: Int

    init(_ index: Int) { self.index = index }
    init?(intValue: Int) { index = intValue }
    init?(stringValue: String) { nil }

    var intValue: Int? { index }
    var stringValue: String { "Index \(index)" }
}

/// A key named by the codec itself (`super`) or by a string-keyed dictionary. Like the standard
/// library's dictionary key, a key that spells an integer also carries it as `intValue`.
struct JSONStringKey: CodingKey {
    let stringValue: String

    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { stringValue = String(intValue) }

    var intValue: Int? { Int(stringValue) }

    static let `super` = JSONStringKey(stringValue: "super")
}
