import CCurl
import CCurlShim

/// `curl_global_init` exactly once per process, before the first handle is made. A `static let`
/// is initialised lazily and thread-safely (swift_once), which is the guarantee libcurl asks for:
/// the call itself is not thread-safe.
enum CurlGlobal {
    private static let initialized: Bool = {
        let code = tollgate_global_init()
        precondition(code == CURLE_OK, "curl_global_init failed: \(code.rawValue)")
        return true
    }()

    static func ensureInitialized() {
        _ = initialized
    }
}
