/// The parameters of a list request: `where`, `limit`, `offset`, `sort`, `fields`.
public struct NocoDBQuery: Sendable, Hashable {
    /// One sort key: `UpdatedAt` ascending, `-UpdatedAt` descending.
    public struct Sort: Sendable, Hashable {
        public var field: String
        public var descending: Bool
        public static func ascending(_ field: String) -> Sort { Sort(field: field, descending: false) }
        public static func descending(_ field: String) -> Sort { Sort(field: field, descending: true) }
        var rendered: String { descending ? "-" + field : field }
    }

    public var `where`: NocoDBWhere?
    /// Rows per page; the server clamps it (25 by default, at most 100 on NocoDB Cloud).
    public var limit: Int?
    public var offset: Int?
    public var sort: [Sort]
    /// Only these fields in each row (empty: all).
    public var fields: [String]

    public init(
        where condition: NocoDBWhere? = nil, limit: Int? = nil, offset: Int? = nil, sort: [Sort] = [],
        fields: [String] = []
    ) {
        self.where = condition
        self.limit = limit
        self.offset = offset
        self.sort = sort
        self.fields = fields
    }

    /// The query string pairs (not yet percent-encoded).
    func parameters() throws(NocoDBError) -> [(String, String)] {
        var result: [(String, String)] = []
        if let condition = self.where { result.append(("where", try condition.render())) }
        if let limit { result.append(("limit", String(limit))) }
        if let offset { result.append(("offset", String(offset))) }
        if !sort.isEmpty { result.append(("sort", sort.map(\.rendered).joined(separator: ","))) }
        if !fields.isEmpty { result.append(("fields", fields.joined(separator: ","))) }
        return result
    }

    /// `application/x-www-form-urlencoded`-safe percent-encoding: everything but the RFC 3986
    /// unreserved characters is escaped (so `,`, `(`, `~`, spaces and `:` travel intact).
    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { percentEncode($0.0) + "=" + percentEncode($0.1) }.joined(separator: "&")
    }

    static func percentEncode(_ text: String) -> String {
        let hex: [Character] = Array("0123456789ABCDEF")
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                out.append("%")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return out
    }
}

/// One page of a list request.
public struct NocoDBPage: Sendable, Hashable, Decodable {
    public struct PageInfo: Sendable, Hashable, Decodable {
        public var totalRows: Int?
        public var page: Int?
        public var pageSize: Int?
        public var isFirstPage: Bool?
        public var isLastPage: Bool?

        public init(
            totalRows: Int? = nil, page: Int? = nil, pageSize: Int? = nil, isFirstPage: Bool? = nil,
            isLastPage: Bool? = nil
        ) {
            self.totalRows = totalRows
            self.page = page
            self.pageSize = pageSize
            self.isFirstPage = isFirstPage
            self.isLastPage = isLastPage
        }

        enum CodingKeys: String, CodingKey { case totalRows, page, pageSize, isFirstPage, isLastPage }

        /// Member by member: a count of the wrong type (`"totalRows": 1e20`) is left out rather
        /// than making the page — and every list request — unreadable.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            totalRows = try? c.decodeIfPresent(Int.self, forKey: .totalRows)
            page = try? c.decodeIfPresent(Int.self, forKey: .page)
            pageSize = try? c.decodeIfPresent(Int.self, forKey: .pageSize)
            isFirstPage = try? c.decodeIfPresent(Bool.self, forKey: .isFirstPage)
            isLastPage = try? c.decodeIfPresent(Bool.self, forKey: .isLastPage)
        }
    }

    public var list: [NocoDBRecord]
    public var pageInfo: PageInfo
    /// Elements of `list` that were not rows (not JSON objects), left out.
    public var unreadableRows = 0

    private struct LenientRow: Decodable {
        var record: NocoDBRecord?
        init(from decoder: any Decoder) throws { record = try? NocoDBRecord(from: decoder) }
    }

    public init(list: [NocoDBRecord], pageInfo: PageInfo) {
        self.list = list
        self.pageInfo = pageInfo
    }

    enum CodingKeys: String, CodingKey { case list, pageInfo }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Rows that are not objects are left out (and counted in ``unreadableRows``); the rest are read.
        var rows = try c.nestedUnkeyedContainer(forKey: .list)
        var list: [NocoDBRecord] = []
        var unreadable = 0
        while !rows.isAtEnd {
            if let row = try rows.decode(LenientRow.self).record { list.append(row) } else { unreadable += 1 }
        }
        self.list = list
        self.unreadableRows = unreadable
        pageInfo = (try? c.decodeIfPresent(PageInfo.self, forKey: .pageInfo)) ?? PageInfo()
    }
}
