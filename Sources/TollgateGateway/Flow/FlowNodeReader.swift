import Foundation
import TollgateCore
import TollgateTelegram
import Yams

/// Turns a composed YAML tree into a ``FlowDefinition``, checking every key and value.
struct FlowNodeReader {
    let file: String
    let baseDirectory: String

    func fail(_ node: Node?, _ reason: String) -> FlowFileError {
        FlowFileError(file: file, line: node?.mark?.line, reason: reason)
    }

    /// The mapping of `node`, refusing keys not in `allowed`.
    func mapping(_ node: Node, _ path: String, allowed: [String]) throws(FlowFileError) -> [String: Node] {
        guard let map = node.mapping else { throw fail(node, "\(path) must be a mapping (key: value)") }
        var result: [String: Node] = [:]
        for (key, value) in map {
            guard let name = key.string else { throw fail(key, "\(path): keys must be text") }
            guard allowed.contains(name) else {
                throw fail(key, "\(path): unknown key '\(name)' (allowed: \(allowed.joined(separator: ", ")))")
            }
            result[name] = value
        }
        return result
    }

    func string(_ node: Node, _ path: String) throws(FlowFileError) -> String {
        guard let scalar = node.scalar else { throw fail(node, "\(path) must be text") }
        return scalar.string
    }

    func text(_ node: Node, _ path: String, placeholders: Set<String>, maxUTF16: Int = 4096) throws(FlowFileError) -> String {
        let value = try string(node, path)
        guard !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw fail(node, "\(path) is empty") }
        guard value.utf16.count <= maxUTF16 else { throw fail(node, "\(path) is longer than Telegram allows (\(maxUTF16))") }
        for name in FlowTemplate.placeholders(in: value) where !placeholders.contains(name) {
            let known = placeholders.sorted().map { "{\($0)}" }.joined(separator: ", ")
            throw fail(node, "\(path): unknown placeholder {\(name)} (here: \(known.isEmpty ? "none" : known))")
        }
        return value
    }

    func duration(
        _ node: Node, _ path: String, min: Duration, max: Duration = .seconds(365 * 86400)
    ) throws(FlowFileError) -> Duration {
        let raw = try string(node, path)
        guard let value = DurationParser.parse(raw) else {
            throw fail(node, "\(path): '\(raw)' is not a duration like 30s, 5m or 48h")
        }
        guard value >= min else { throw fail(node, "\(path) must be at least \(DurationParser.format(min))") }
        // A flow's delays become job due times and watch expiries: a year is the most any means
        // (an access period, like ACCESS_PERIOD, ten).
        guard value <= max else { throw fail(node, "\(path) must be at most \(DurationParser.format(max))") }
        return value
    }

    func url(_ node: Node, _ path: String, placeholders: Set<String>) throws(FlowFileError) -> String {
        let value = try text(node, path, placeholders: placeholders)
        guard value.hasPrefix("https://") || value.hasPrefix("http://") || value.hasPrefix("tg://") else {
            throw fail(node, "\(path) must be an http(s):// or tg:// URL")
        }
        return value
    }

    /// A message section: `text` plus at most one of `photo`, `video`, `document`.
    func message(
        _ fields: [String: Node], _ path: String, base: FlowDefinition.Message, placeholders: Set<String>,
        owner: Node
    ) throws(FlowFileError) -> FlowDefinition.Message {
        var message = base
        let mediaKeys = ["photo", "video", "document"].filter { fields[$0] != nil }
        if mediaKeys.count > 1 { throw fail(owner, "\(path): give only one of photo, video, document") }
        if let kind = mediaKeys.first, let node = fields[kind] {
            message.media = FlowDefinition.Media(
                kind: InputMedia.Kind(rawValue: kind)!, file: try mediaFile(node, "\(path).\(kind)"))
        }
        if let node = fields["on_uncertain"] {
            let value = try string(node, "\(path).on_uncertain")
            guard let policy = FlowSend.OnUncertain(rawValue: value) else {
                throw fail(node, "\(path).on_uncertain must be resend or skip, not '\(value.prefix(40))'")
            }
            message.onUncertain = policy
        }
        if let node = fields["text"] {
            message.text = try text(node, "\(path).text", placeholders: placeholders, maxUTF16: message.media == nil ? 4096 : 1024)
        } else if message.media != nil, message.text.utf16.count > 1024 {
            throw fail(owner, "\(path): the default text is too long for a caption; give a text")
        }
        return message
    }

    func mediaFile(_ node: Node, _ path: String) throws(FlowFileError) -> InputFile {
        let value = try string(node, path)
        if value.hasPrefix("file_id:") {
            let id = String(value.dropFirst("file_id:".count))
            guard !id.isEmpty else { throw fail(node, "\(path): empty file_id") }
            return .fileID(id)
        }
        if value.hasPrefix("https://") || value.hasPrefix("http://") { return .url(value) }
        let full = value.hasPrefix("/") ? value : baseDirectory + "/" + value
        let data: [UInt8]
        switch BoundedFile.read(full, maxBytes: 50 << 20) {
        case .success(let bytes): data = bytes
        case .failure(.tooLarge): throw fail(node, "\(path): \(full) is over Telegram's 50 MB upload limit")
        case .failure(let why): throw fail(node, "\(path): cannot read media file \(full): \(why)")
        }
        let name = (full as NSString).lastPathComponent
        return .upload(FileUpload(filename: name, contentType: Self.contentType(name), bytes: Array(data)))
    }

    static func contentType(_ name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "mp4": "video/mp4"
        case "mov": "video/quicktime"
        case "jpg", "jpeg": "image/jpeg"
        case "png": "image/png"
        case "pdf": "application/pdf"
        default: "application/octet-stream"
        }
    }
}
