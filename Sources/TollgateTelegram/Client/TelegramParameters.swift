#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
import TollgateHTTP

/// The parameters of one Bot API call, in order. Sent as a JSON body, or — when a file is
/// uploaded — as `multipart/form-data` where objects travel as JSON text, as Telegram expects.
public struct TelegramParameters: Sendable {
    enum Value: Sendable {
        /// A JSON fragment and the text form used in a form field.
        case scalar(json: [UInt8], form: String)
        case file(FileUpload)
    }

    private(set) var entries: [(String, Value)] = []

    public init() {}

    /// Whether a parameter named `name` is set.
    public func contains(_ name: String) -> Bool { entries.contains { $0.0 == name } }

    /// Adds a string parameter (skipped when `nil`).
    public mutating func add(_ name: String, _ value: String?) {
        guard let value else { return }
        entries.append((name, .scalar(json: Self.jsonString(value), form: value)))
    }

    /// Adds an integer parameter (skipped when `nil`).
    public mutating func add(_ name: String, _ value: Int64?) {
        guard let value else { return }
        entries.append((name, .scalar(json: Array(String(value).utf8), form: String(value))))
    }

    /// Adds an integer parameter (skipped when `nil`).
    public mutating func add(_ name: String, _ value: Int?) {
        add(name, value.map(Int64.init))
    }

    /// Adds a boolean parameter (skipped when `nil`).
    public mutating func add(_ name: String, _ value: Bool?) {
        guard let value else { return }
        entries.append((name, .scalar(json: Array((value ? "true" : "false").utf8), form: value ? "true" : "false")))
    }

    /// Adds a value encoded as JSON (keyboards, arrays); skipped when `nil`.
    public mutating func addJSON<T: Encodable>(_ name: String, _ value: T?) {
        guard let value else { return }
        let bytes = (try? Self.encoder.encode(value)).map(Array.init) ?? Array("null".utf8)
        entries.append((name, .scalar(json: bytes, form: String(decoding: bytes, as: UTF8.self))))
    }

    /// Adds a file: a `file_id` or URL as a string, an upload as a file part named `name`.
    public mutating func add(_ name: String, file: InputFile) {
        switch file {
        case .fileID(let id): add(name, id)
        case .url(let url): add(name, url)
        case .upload(let upload): entries.append((name, .file(upload)))
        }
    }

    /// Adds a file part under `name` whatever its kind (for `attach://name` references).
    mutating func addUpload(_ name: String, _ upload: FileUpload) {
        entries.append((name, .file(upload)))
    }

    /// Whether any parameter is an upload (the request must be multipart).
    public var hasUploads: Bool {
        entries.contains { if case .file = $0.1 { return true } else { return false } }
    }

    /// The HTTP body: JSON, or multipart when something is uploaded.
    func body() -> HTTPRequest.Body {
        if hasUploads {
            return .multipart(
                entries.map { name, value in
                    switch value {
                    case .scalar(_, let form): return .field(name, form)
                    case .file(let upload):
                        return .file(name, filename: upload.filename, contentType: upload.contentType, bytes: upload.bytes)
                    }
                })
        }
        var json: [UInt8] = [UInt8(ascii: "{")]
        for (index, (name, value)) in entries.enumerated() {
            guard case .scalar(let fragment, _) = value else { continue }
            if index > 0 { json.append(UInt8(ascii: ",")) }
            json += Self.jsonString(name)
            json.append(UInt8(ascii: ":"))
            json += fragment
        }
        json.append(UInt8(ascii: "}"))
        return .bytes(json, contentType: "application/json")
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func jsonString(_ text: String) -> [UInt8] {
        (try? encoder.encode(text)).map(Array.init) ?? Array("\"\"".utf8)
    }
}
