import TollgateCore

/// The parsing behind ``RedisURL/init(_:)``. Error messages name the part that is wrong but never
/// quote the input: a malformed URL can put a password where a host or port was expected.
enum RedisURLParser {
    static func parse(_ input: String) throws(RedisError) -> RedisURL {
        let text = input.trimmingWhitespace()
        guard !text.isEmpty else { throw invalid("it is empty") }
        let lower = text.lowercased()
        for prefix in ["redis+unix://", "unix://", "redis+unix:", "unix:"] where lower.hasPrefix(prefix) {
            return try parseUnix(text.dropFirst(prefix.count))
        }
        if lower.hasPrefix("redis://") {
            return try parseTCP(text.dropFirst("redis://".count))
        }
        if lower.hasPrefix("rediss://") {
            throw invalid("TLS (rediss://) is not supported; use redis:// or unix://")
        }
        throw invalid("expected redis://[[user]:password@]host[:port][/db] or unix:///path/to/redis.sock")
    }

    // MARK: redis://

    private static func parseTCP(_ rest: Substring) throws(RedisError) -> RedisURL {
        var user: String?
        var password: String?
        var hostPart = rest
        // The last '@' ends the credentials, so an unencoded '@' or '/' inside a password still works.
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            hostPart = rest[rest.index(after: at)...]
            guard let colon = userinfo.firstIndex(of: ":") else {
                Redactor.shared.register(String(userinfo))  // probably a password written without ':'
                throw invalid("credentials must be written :password@ or user:password@")
            }
            let rawUser = userinfo[..<colon]
            let rawPassword = userinfo[userinfo.index(after: colon)...]
            Redactor.shared.register(String(rawPassword))
            if !rawUser.isEmpty { user = try percentDecoded(rawUser, part: "user name") }
            if !rawPassword.isEmpty {
                let decoded = try percentDecoded(rawPassword, part: "password")
                Redactor.shared.register(decoded)
                password = decoded
            }
        }
        if user != nil, password == nil { throw invalid("a user needs a password (user:password@)") }
        guard !hostPart.contains("?") else {
            throw invalid("query parameters are only supported in unix:// URLs; put the db in the path")
        }
        let slash = hostPart.firstIndex(of: "/") ?? hostPart.endIndex
        let authority = hostPart[..<slash]
        let path = hostPart[slash...]
        let (host, port) = try hostAndPort(authority)
        var database = 0
        if path.count > 1 {
            database = try databaseIndex(path.dropFirst(), part: "database (the path after the host)")
        }
        return RedisURL(endpoint: .tcp(host: host, port: port), user: user, password: password, database: database)
    }

    private static func hostAndPort(_ authority: Substring) throws(RedisError) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("IPv6 host is missing its ']'") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("unexpected characters after the IPv6 host") }
                portText = after.dropFirst()
            }
        } else {
            let colons = authority.filter { $0 == ":" }.count
            guard colons <= 1 else { throw invalid("an IPv6 host must be written in brackets, e.g. [::1]") }
            if let colon = authority.firstIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
            }
        }
        guard !host.isEmpty else { throw invalid("the host is missing") }
        guard host.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "%" }) else {
            throw invalid("the host contains characters that are not allowed")
        }
        var port = RedisURL.defaultPort
        if let portText {
            guard let value = Int(portText), portText.allSatisfy(\.isASCIIDigit), (1...65535).contains(value) else {
                throw invalid("the port must be a number between 1 and 65535")
            }
            port = value
        }
        return (String(host), port)
    }

    // MARK: unix://

    private static func parseUnix(_ rest: Substring) throws(RedisError) -> RedisURL {
        let question = rest.firstIndex(of: "?") ?? rest.endIndex
        let rawPath = rest[..<question]
        var user: String?
        var password: String?
        var database: Int?
        if question < rest.endIndex {
            for pair in rest[rest.index(after: question)...].split(separator: "&", omittingEmptySubsequences: true) {
                guard let equals = pair.firstIndex(of: "=") else {
                    Redactor.shared.register(String(pair))
                    throw invalid("every query parameter must be written key=value")
                }
                let key = pair[..<equals].lowercased()
                let rawValue = pair[pair.index(after: equals)...]
                switch key {
                case "password":
                    Redactor.shared.register(String(rawValue))
                    guard password == nil else { throw invalid("password is given twice") }
                    let decoded = try percentDecoded(rawValue, part: "password")
                    Redactor.shared.register(decoded)
                    password = decoded
                case "user", "username":
                    guard user == nil else { throw invalid("user is given twice") }
                    user = try percentDecoded(rawValue, part: "user name")
                case "db", "database":
                    guard database == nil else { throw invalid("db is given twice") }
                    database = try databaseIndex(rawValue, part: "db query parameter")
                default:
                    throw invalid("unknown query parameter (allowed: db, password, user)")
                }
            }
        }
        let path = try percentDecoded(rawPath, part: "socket path")
        guard path.hasPrefix("/") else {
            throw invalid("the socket path must be absolute, e.g. unix:///run/redis/redis.sock")
        }
        guard path.utf8.count < 108 else { throw invalid("the socket path is longer than 107 bytes") }
        if user != nil, password == nil { throw invalid("a user needs a password") }
        return RedisURL(endpoint: .unix(path: path), user: user, password: password, database: database ?? 0)
    }

    // MARK: Pieces

    private static func databaseIndex(_ text: Substring, part: String) throws(RedisError) -> Int {
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit), let value = Int(text), value <= Int(Int32.max) else {
            throw invalid("the \(part) must be a non-negative integer")
        }
        return value
    }

    /// Decodes `%XX` escapes; the result must be valid UTF-8.
    static func percentDecoded(_ text: Substring, part: String) throws(RedisError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard utf8.count >= 2, let high = hexValue(utf8.removeFirst()), let low = hexValue(utf8.removeFirst())
            else { throw invalid("the \(part) has an invalid %-escape") }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw invalid("the \(part) is not valid UTF-8 after %-decoding")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func invalid(_ problem: String) -> RedisError {
        RedisError(.invalidURL, "invalid Redis URL: \(problem)")
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var view = self[...]
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}
