/// Refuses requests that would put bytes on the wire the caller did not mean: a method that is
/// not an HTTP token, a header name that is not a token, a header value with CR, LF or NUL
/// (header injection). libcurl would send them as given.
enum CurlRequestValidator {
    static func validate(
        _ request: HTTPRequest, error: (String) -> HTTPClientError
    ) throws(HTTPClientError) {
        guard isToken(request.method) else { throw error("invalid method") }
        for (name, value) in request.headers {
            guard isToken(name) else { throw error("invalid header name") }
            guard !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }) else {
                throw error("header \(name) contains CR, LF or NUL")
            }
        }
    }

    /// RFC 9110 token: one or more of `!#$%&'*+-.^_`|~`, digits and letters.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "A")...UInt8(ascii: "Z"):
                    return true
                default:
                    return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
                }
            }
    }
}
