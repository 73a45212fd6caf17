/// One size of a photo.
public struct PhotoSize: Codable, Sendable, Hashable {
    public var fileID: String
    public var fileUniqueID: String
    public var width: Int
    public var height: Int
    public var fileSize: Int?

    public init(fileID: String, fileUniqueID: String, width: Int, height: Int, fileSize: Int? = nil) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.width = width
        self.height = height
        self.fileSize = fileSize
    }

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case width, height
        case fileSize = "file_size"
    }
}

/// A video file.
public struct Video: Codable, Sendable, Hashable {
    public var fileID: String
    public var fileUniqueID: String
    public var width: Int?
    public var height: Int?
    public var duration: Int?
    public var fileSize: Int?

    public init(fileID: String, fileUniqueID: String, width: Int? = nil, height: Int? = nil, duration: Int? = nil, fileSize: Int? = nil) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.width = width
        self.height = height
        self.duration = duration
        self.fileSize = fileSize
    }

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case width, height, duration
        case fileSize = "file_size"
    }
}

/// A general file.
public struct Document: Codable, Sendable, Hashable {
    public var fileID: String
    public var fileUniqueID: String
    public var fileName: String?
    public var mimeType: String?
    public var fileSize: Int?

    public init(fileID: String, fileUniqueID: String, fileName: String? = nil, mimeType: String? = nil, fileSize: Int? = nil) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.fileName = fileName
        self.mimeType = mimeType
        self.fileSize = fileSize
    }

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case fileName = "file_name"
        case mimeType = "mime_type"
        case fileSize = "file_size"
    }
}

/// What `getWebhookInfo` reports.
public struct WebhookInfo: Codable, Sendable, Hashable {
    public var url: String
    public var hasCustomCertificate: Bool
    public var pendingUpdateCount: Int
    public var maxConnections: Int?
    public var allowedUpdates: [String]?
    public var lastErrorDate: Int64?
    public var lastErrorMessage: String?

    public init(
        url: String, hasCustomCertificate: Bool = false, pendingUpdateCount: Int = 0, maxConnections: Int? = nil,
        allowedUpdates: [String]? = nil, lastErrorDate: Int64? = nil, lastErrorMessage: String? = nil
    ) {
        self.url = url
        self.hasCustomCertificate = hasCustomCertificate
        self.pendingUpdateCount = pendingUpdateCount
        self.maxConnections = maxConnections
        self.allowedUpdates = allowedUpdates
        self.lastErrorDate = lastErrorDate
        self.lastErrorMessage = lastErrorMessage
    }

    enum CodingKeys: String, CodingKey {
        case url
        case hasCustomCertificate = "has_custom_certificate"
        case pendingUpdateCount = "pending_update_count"
        case maxConnections = "max_connections"
        case allowedUpdates = "allowed_updates"
        case lastErrorDate = "last_error_date"
        case lastErrorMessage = "last_error_message"
    }
}
