import CCurl
import CCurlShim

/// Typed `curl_easy_setopt` calls (through the fixed-signature shim) that turn a failure into
/// an ``HTTPClientError`` naming the option.
struct CurlOptions {
    let easy: UnsafeMutableRawPointer
    let onError: (CURLcode, String) -> HTTPClientError

    func set(_ option: CURLoption, _ value: Int, _ what: String) throws(HTTPClientError) {
        try check(tollgate_easy_setopt_long(easy, option, value), what)
    }

    /// A string option; libcurl copies the string (since 7.17), so it need not outlive the call.
    func set(_ option: CURLoption, _ value: String, _ what: String) throws(HTTPClientError) {
        let code = value.withCString { tollgate_easy_setopt_ptr(easy, option, $0) }
        try check(code, what)
    }

    func set(_ option: CURLoption, offset value: Int, _ what: String) throws(HTTPClientError) {
        try check(tollgate_easy_setopt_off(easy, option, curl_off_t(value)), what)
    }

    /// A pointer option; the caller keeps the pointee alive for the transfer's lifetime.
    func set(_ option: CURLoption, pointer: UnsafeRawPointer?, _ what: String) throws(HTTPClientError) {
        try check(tollgate_easy_setopt_ptr(easy, option, pointer), what)
    }

    func set(_ option: CURLoption, callback: tollgate_curl_data_cb, _ what: String) throws(HTTPClientError) {
        try check(tollgate_easy_setopt_data_cb(easy, option, callback), what)
    }

    /// Sets a request body that libcurl copies (`CURLOPT_COPYPOSTFIELDS`); this makes the
    /// request a POST unless `CURLOPT_CUSTOMREQUEST` says otherwise.
    func setPostBody(_ bytes: [UInt8]) throws(HTTPClientError) {
        try set(CURLOPT_POSTFIELDSIZE_LARGE, offset: bytes.count, "body size")
        let code = bytes.withUnsafeBytes { buffer in
            // An empty array may have no storage: hand libcurl a valid empty string instead.
            guard let base = buffer.baseAddress, !buffer.isEmpty else {
                return "".withCString { tollgate_easy_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, $0) }
            }
            return tollgate_easy_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, base)
        }
        try check(code, "body")
    }

    private func check(_ code: CURLcode, _ what: String) throws(HTTPClientError) {
        guard code == CURLE_OK else { throw onError(code, what) }
    }
}
