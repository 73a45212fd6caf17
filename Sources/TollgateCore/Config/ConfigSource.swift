import Foundation

/// Where configuration comes from: the process environment, optionally an environment file, and
/// systemd credentials.
///
/// Precedence, highest first: the process environment, then the file named by `TOLLGATE_CONFIG`
/// (lines `KEY=VALUE`, `#` comments, optional single or double quotes — the systemd
/// `EnvironmentFile=` format), then built-in defaults. Secrets may also come from
/// `$CREDENTIALS_DIRECTORY/<name>` (systemd `LoadCredential=`), which wins over both when present.
public struct ConfigSource: Sendable {
    public private(set) var values: [String: String]
    public let credentialsDirectory: String?
    /// Problems found while reading the file itself (a line without `=`); reported with the rest.
    public let fileProblems: [String]

    public init(values: [String: String], credentialsDirectory: String? = nil, fileProblems: [String] = []) {
        self.values = values
        self.credentialsDirectory = credentialsDirectory
        self.fileProblems = fileProblems
    }

    /// Reads the process environment and the optional config file.
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment) -> ConfigSource {
        var merged: [String: String] = [:]
        var problems: [String] = []
        if let path = environment["TOLLGATE_CONFIG"], !path.isEmpty {
            switch Self.parseFile(at: path) {
            case .success(let fileValues): merged = fileValues
            case .failure(let fileProblems): problems = fileProblems.list
            }
        }
        for (key, value) in environment { merged[key] = value }
        return ConfigSource(
            values: merged, credentialsDirectory: environment["CREDENTIALS_DIRECTORY"], fileProblems: problems)
    }

    public subscript(key: String) -> String? {
        guard let v = values[key], !v.isEmpty else { return nil }
        return v
    }

    /// The content of `$CREDENTIALS_DIRECTORY/<name>`, trailing newline trimmed.
    public func credential(_ name: String) -> String? {
        guard let dir = credentialsDirectory, !dir.isEmpty else { return nil }
        guard case .success(let data) = BoundedFile.read(dir + "/" + name, maxBytes: 64 * 1024) else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    struct FileProblems: Error { var list: [String] }

    static func parseFile(at path: String) -> Result<[String: String], FileProblems> {
        let data: [UInt8]
        switch BoundedFile.read(path, maxBytes: 1 << 20) {
        case .success(let bytes): data = bytes
        case .failure(let why):
            return .failure(FileProblems(list: ["TOLLGATE_CONFIG: config file \(path): \(why)"]))
        }
        return parse(String(decoding: data, as: UTF8.self), name: path)
    }

    static func parse(_ text: String, name: String) -> Result<[String: String], FileProblems> {
        var values: [String: String] = [:]
        var problems: [String] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            let body = line.hasPrefix("export ") ? String(line.dropFirst(7)) : line
            guard let eq = body.firstIndex(of: "=") else {
                problems.append("\(name) line \(index + 1): expected KEY=VALUE")
                continue
            }
            let key = body[..<eq].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                problems.append("\(name) line \(index + 1): invalid variable name")
                continue
            }
            var value = body[body.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            values[key] = value
        }
        return problems.isEmpty ? .success(values) : .failure(FileProblems(list: problems))
    }
}
