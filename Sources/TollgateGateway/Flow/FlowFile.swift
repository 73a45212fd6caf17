import Foundation
import TollgateCore
import TollgateTelegram
import Yams

/// A flow file could not be used: which file, which line, and why.
public struct FlowFileError: Error, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based; `nil` when the problem is not at one place (an unreadable file).
    public var line: Int?
    public var reason: String

    public init(file: String, line: Int?, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String {
        if let line { return "\(file) line \(line): \(reason)" }
        return "\(file): \(reason)"
    }
}

/// Reads a flow file (YAML, or JSON — a JSON document is YAML too) over the built-in defaults.
///
/// ```yaml
/// welcome:
///   text: "Hi {first_name}!"
///   button: Get access
/// payment:
///   url: https://pay.example.com/?user={user_id}&record={record_id}
///   text: "Pay here: {payment_url}"
///   button: Pay
///   watch_for: 48h
/// reminders:
///   - step: reminder
///     delay: 5m
///     text: "Still thinking?"
///     video: media/reminder.mp4      # a path (relative to this file), an https:// URL, or file_id:...
/// paid: { text: "Welcome! {invite_link}", invite_link: "https://t.me/+abc" }
/// status: { paid: "You have access.", awaiting_payment: "Waiting for {payment_url}" }
/// ```
///
/// Anything unknown, mistyped or out of range is refused, naming the line.
public enum FlowFile {
    public static func load(path: String) throws(FlowFileError) -> FlowDefinition {
        let data: [UInt8]
        switch BoundedFile.read(path, maxBytes: 1 << 20) {
        case .success(let bytes): data = bytes
        case .failure(let why): throw FlowFileError(file: path, line: nil, reason: "cannot read the file: \(why)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw FlowFileError(file: path, line: nil, reason: "not UTF-8 text")
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try parse(text, name: path, baseDirectory: directory.isEmpty ? "." : directory)
    }

    /// Parses flow text; `name` labels errors, `baseDirectory` resolves media paths.
    public static func parse(_ text: String, name: String, baseDirectory: String = ".") throws(FlowFileError) -> FlowDefinition {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.syntaxError(error, name: name)
        } catch {
            throw FlowFileError(file: name, line: nil, reason: "cannot parse: \(error)")
        }
        guard let root else { return .defaults }
        var reader = FlowNodeReader(file: name, baseDirectory: baseDirectory)
        return try reader.definition(root)
    }

    static func syntaxError(_ error: YamlError, name: String) -> FlowFileError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var reason = problem
            if let context { reason += " (\(context.text))" }
            return FlowFileError(file: name, line: mark.line, reason: "syntax error: \(reason)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return FlowFileError(
                file: name, line: context.mark.line, reason: "duplicate key \(duplicates.joined(separator: ", "))")
        default:
            return FlowFileError(file: name, line: nil, reason: "syntax error: \(error)")
        }
    }
}
