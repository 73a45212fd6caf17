import Synchronization

/// Scrubs secrets out of text before it reaches a log line, an error description or a metric.
///
/// Two rules apply: every registered secret is replaced by `<redacted>`, and any Telegram-style
/// path segment `/bot<digits>:<token>` is replaced by `/bot<redacted>` even when the token was
/// never registered (a URL built by a peer, a token read from an unexpected place).
public final class Redactor: Sendable {
    public static let shared = Redactor()

    private let secrets = Mutex<[String]>([])

    public init() {}

    /// Registers a secret. Values shorter than 4 characters are ignored: redacting "a" would
    /// destroy every line without protecting anything.
    public func register(_ secret: String) {
        guard secret.utf8.count >= 4 else { return }
        secrets.withLock { list in
            if !list.contains(secret) {
                list.append(secret)
                list.sort { $0.utf8.count > $1.utf8.count }  // longest first: no partial leftovers
            }
        }
    }

    /// Returns `text` with every secret and every `/bot<token>` path segment replaced.
    public func redact(_ text: String) -> String {
        var result = text
        let current = secrets.withLock { $0 }
        for secret in current where result.contains(secret) {
            result = result.replacingAll(secret, with: "<redacted>")
        }
        return Self.redactBotPaths(result)
    }

    /// Replaces `bot<digits>:<token chars>` after a `/` with `bot<redacted>`.
    static func redactBotPaths(_ text: String) -> String {
        guard text.contains("/bot") else { return text }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "/"), i + 4 < bytes.count,
                bytes[i + 1] == UInt8(ascii: "b"), bytes[i + 2] == UInt8(ascii: "o"), bytes[i + 3] == UInt8(ascii: "t")
            {
                var j = i + 4
                let digitsStart = j
                while j < bytes.count, bytes[j] >= 0x30, bytes[j] <= 0x39 { j += 1 }
                if j > digitsStart, j < bytes.count, bytes[j] == UInt8(ascii: ":") {
                    j += 1
                    let tokenStart = j
                    while j < bytes.count, Self.isTokenByte(bytes[j]) { j += 1 }
                    if j > tokenStart {
                        out.append(contentsOf: Array("/bot<redacted>".utf8))
                        i = j
                        continue
                    }
                }
            }
            out.append(bytes[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isTokenByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }
}

extension String {
    /// Replaces every occurrence of `target` (non-empty) by `replacement`, without Foundation.
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
