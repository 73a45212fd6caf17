/// One part of a `multipart/form-data` request body (see ``HTTPRequest/Body/multipart(_:)``).
///
/// Telegram uploads use a file part (`document`, `video`, ...) beside plain field parts
/// (`chat_id`, `caption`, ...).
public struct MultipartPart: Sendable {
    /// The form field name.
    public var name: String
    /// The file name announced for a file part; `nil` for a plain field.
    public var filename: String?
    /// The part's `Content-Type`; `nil` lets libcurl choose (`text/plain` for fields,
    /// `application/octet-stream` for files).
    public var contentType: String?
    /// The part's content, sent as is (binary-safe).
    public var bytes: [UInt8]

    /// Creates a part from its raw pieces.
    public init(name: String, filename: String? = nil, contentType: String? = nil, bytes: [UInt8]) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.bytes = bytes
    }

    /// A plain text field.
    public static func field(_ name: String, _ value: String) -> MultipartPart {
        MultipartPart(name: name, bytes: Array(value.utf8))
    }

    /// A file part.
    public static func file(
        _ name: String, filename: String, contentType: String = "application/octet-stream", bytes: [UInt8]
    ) -> MultipartPart {
        MultipartPart(name: name, filename: filename, contentType: contentType, bytes: bytes)
    }
}
