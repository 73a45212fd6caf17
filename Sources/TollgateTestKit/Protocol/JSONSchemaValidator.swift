import Foundation
import TollgateIPC

/// Validates JSON values against the Draft 2020-12 subset used in Protocols/schemas.
///
/// Supported keywords: `$ref` (local `#/$defs/x` and `file.json#/$defs/x`), `allOf`, `anyOf`,
/// `oneOf`, `not`, `type`, `const`, `enum`, `properties`, `required`, `additionalProperties`,
/// `items`, `minItems`, `maxItems`, `minLength`, `maxLength`, `pattern`, `minimum`, `maximum`,
/// `exclusiveMinimum`, `exclusiveMaximum`. Any other keyword (except annotations) is an error, so a
/// schema can never silently rely on something this validator ignores.
public struct JSONSchemaValidator: Sendable {
    /// Schemas by file name (`hello.request.json`).
    public let documents: [String: JSONValue]

    private static let annotations: Set<String> = ["$schema", "$id", "$defs", "title", "description", "$comment", "examples", "default"]

    public init(documents: [String: JSONValue]) { self.documents = documents }

    /// Loads every `*.json` in `directory`.
    public init(directory: String) throws {
        var docs: [String: JSONValue] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".json") {
            let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
            docs[name] = try JSONDecoder().decode(JSONValue.self, from: data)
        }
        documents = docs
    }

    /// Problems found validating `value` against the schema document `schemaName`; empty when valid.
    public func validate(_ value: JSONValue, against schemaName: String) -> [String] {
        guard let schema = documents[schemaName] else { return ["no schema named \(schemaName)"] }
        var problems: [String] = []
        check(value, schema, document: schemaName, path: "$", into: &problems)
        return problems
    }

    private func check(_ value: JSONValue, _ schema: JSONValue, document: String, path: String, into problems: inout [String]) {
        guard case .object(let keywords) = schema else {
            if case .bool(false) = schema { problems.append("\(path): no value is allowed here") }
            return
        }
        for (keyword, argument) in keywords {
            switch keyword {
            case _ where Self.annotations.contains(keyword): continue
            case "$ref":
                guard case .string(let ref) = argument, let (doc, target) = resolve(ref, from: document) else {
                    problems.append("\(path): unresolvable $ref \(argument)")
                    continue
                }
                check(value, target, document: doc, path: path, into: &problems)
            case "allOf":
                for sub in argument.arrayValue { check(value, sub, document: document, path: path, into: &problems) }
            case "anyOf":
                let ok = argument.arrayValue.contains { sub in
                    var p: [String] = []
                    check(value, sub, document: document, path: path, into: &p)
                    return p.isEmpty
                }
                if !ok { problems.append("\(path): matches none of anyOf") }
            case "oneOf":
                let matches = argument.arrayValue.filter { sub in
                    var p: [String] = []
                    check(value, sub, document: document, path: path, into: &p)
                    return p.isEmpty
                }.count
                if matches != 1 { problems.append("\(path): matches \(matches) of oneOf, expected exactly 1") }
            case "not":
                var p: [String] = []
                check(value, argument, document: document, path: path, into: &p)
                if p.isEmpty { problems.append("\(path): matches a schema under 'not'") }
            case "type":
                let allowed = argument.arrayValue.isEmpty ? [argument] : argument.arrayValue
                if !allowed.contains(where: { Self.hasType(value, $0) }) {
                    problems.append("\(path): wrong type, expected \(allowed.map(\.stringValue))")
                }
            case "const":
                if !Self.equal(value, argument) { problems.append("\(path): must equal \(argument)") }
            case "enum":
                if !argument.arrayValue.contains(where: { Self.equal(value, $0) }) {
                    problems.append("\(path): not one of the allowed values")
                }
            case "properties":
                guard case .object(let members) = value, case .object(let props) = argument else { continue }
                for (name, sub) in props {
                    if let member = members[name] {
                        check(member, sub, document: document, path: "\(path).\(name)", into: &problems)
                    }
                }
            case "required":
                guard case .object(let members) = value else { continue }
                for case .string(let name) in argument.arrayValue where members[name] == nil {
                    problems.append("\(path): missing required member '\(name)'")
                }
            case "additionalProperties":
                guard case .object(let members) = value else { continue }
                let declared = Set(keywords["properties"]?.objectKeys ?? [])
                for (name, member) in members where !declared.contains(name) {
                    check(member, argument, document: document, path: "\(path).\(name)", into: &problems)
                }
            case "items":
                guard case .array(let elements) = value else { continue }
                for (i, element) in elements.enumerated() {
                    check(element, argument, document: document, path: "\(path)[\(i)]", into: &problems)
                }
            case "minItems", "maxItems":
                guard case .array(let elements) = value, case .number(let n) = argument else { continue }
                if keyword == "minItems" ? elements.count < Int(n) : elements.count > Int(n) {
                    problems.append("\(path): \(elements.count) items violates \(keyword) \(Int(n))")
                }
            case "minLength", "maxLength":
                guard case .string(let s) = value, case .number(let n) = argument else { continue }
                let count = s.unicodeScalars.count
                if keyword == "minLength" ? count < Int(n) : count > Int(n) {
                    problems.append("\(path): length \(count) violates \(keyword) \(Int(n))")
                }
            case "pattern":
                guard case .string(let s) = value, case .string(let pattern) = argument else { continue }
                let regex = try? NSRegularExpression(pattern: pattern)
                let range = NSRange(s.startIndex..., in: s)
                if regex?.firstMatch(in: s, range: range) == nil {
                    problems.append("\(path): does not match pattern \(pattern)")
                }
            case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
                guard case .number(let x) = value, case .number(let bound) = argument else { continue }
                let ok: Bool
                switch keyword {
                case "minimum": ok = x >= bound
                case "maximum": ok = x <= bound
                case "exclusiveMinimum": ok = x > bound
                default: ok = x < bound
                }
                if !ok { problems.append("\(path): \(x) violates \(keyword) \(bound)") }
            default:
                problems.append("\(path): schema keyword '\(keyword)' is not supported by this validator")
            }
        }
    }

    private func resolve(_ ref: String, from document: String) -> (String, JSONValue)? {
        let parts = ref.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let docName = parts[0].isEmpty ? document : String(parts[0])
        guard var node = documents[docName] else { return nil }
        if parts.count == 2, !parts[1].isEmpty {
            for token in parts[1].split(separator: "/") {
                guard let next = node[String(token)] else { return nil }
                node = next
            }
        }
        return (docName, node)
    }

    private static func hasType(_ value: JSONValue, _ type: JSONValue) -> Bool {
        switch (type.stringValue, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string),
            ("array", .array), ("object", .object):
            return true
        case ("integer", .number(let n)): return n == n.rounded()
        default: return false
        }
    }

    private static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool { a == b }
}

extension JSONValue {
    var arrayValue: [JSONValue] {
        if case .array(let a) = self { return a }
        return []
    }
    var stringValue: String {
        if case .string(let s) = self { return s }
        return "\(self)"
    }
    var objectKeys: [String] {
        if case .object(let o) = self { return Array(o.keys) }
        return []
    }
}
