/// A file to send: one Telegram already has (`file_id`), a URL Telegram fetches, or bytes uploaded
/// with the request (multipart).
public enum InputFile: Sendable, Hashable {
    case fileID(String)
    case url(String)
    case upload(FileUpload)
}

/// Bytes to upload, with the name and type announced for them.
public struct FileUpload: Sendable, Hashable {
    public var filename: String
    public var contentType: String
    public var bytes: [UInt8]

    public init(filename: String, contentType: String = "application/octet-stream", bytes: [UInt8]) {
        self.filename = filename
        self.contentType = contentType
        self.bytes = bytes
    }

    /// A key that names these exact bytes (64-bit FNV-1a of the content plus its length): the
    /// media cache keeps the `file_id` Telegram returned for them under this key.
    public var contentKey: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return String(hash, radix: 16) + "-" + String(bytes.count)
    }
}

/// One item of a media group (`sendMediaGroup`).
public struct InputMedia: Sendable, Hashable {
    /// `photo`, `video` or `document`.
    public enum Kind: String, Sendable, Hashable {
        case photo, video, document
    }

    public var kind: Kind
    public var media: InputFile
    public var caption: String?

    public init(_ kind: Kind, _ media: InputFile, caption: String? = nil) {
        self.kind = kind
        self.media = media
        self.caption = caption
    }
}
