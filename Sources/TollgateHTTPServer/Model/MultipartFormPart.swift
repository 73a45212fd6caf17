/// One part of a `multipart/form-data` request body, from ``HTTPServerRequest/multipartParts()``.
public struct MultipartFormPart: Sendable {
    /// The form field name (`name` of `Content-Disposition`).
    public var name: String
    /// The file name (`filename` of `Content-Disposition`), for a file part.
    public var filename: String?
    /// The part's `Content-Type`, if it had one.
    public var contentType: String?
    /// The part's bytes, exactly as sent.
    public var bytes: [UInt8]

    /// Creates a part.
    public init(name: String, filename: String? = nil, contentType: String? = nil, bytes: [UInt8]) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.bytes = bytes
    }

    /// The bytes as UTF-8 text (for plain fields).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}
