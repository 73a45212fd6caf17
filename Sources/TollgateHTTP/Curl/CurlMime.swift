import CCurl
import CCurlShim

/// Builds a libcurl MIME body (`multipart/form-data`) from ``MultipartPart``s. libcurl copies
/// names, file names, types and data, so the parts need not outlive the call; the returned
/// `curl_mime` is owned by the caller (freed with `curl_mime_free` after the easy handle).
enum CurlMime {
    static func build(
        _ parts: [MultipartPart], easy: UnsafeMutableRawPointer, onError: (String) -> HTTPClientError
    ) throws(HTTPClientError) -> OpaquePointer {
        guard let mime = curl_mime_init(easy) else { throw onError("curl_mime_init failed") }
        for part in parts {
            guard let handle = curl_mime_addpart(mime) else {
                curl_mime_free(mime)
                throw onError("curl_mime_addpart failed")
            }
            var ok = curl_mime_name(handle, part.name) == CURLE_OK
            ok =
                ok
                && part.bytes.withUnsafeBytes { buffer in
                    // A NULL pointer would mean "no data": pass an empty string for an empty part.
                    guard let base = buffer.baseAddress, !buffer.isEmpty else {
                        return curl_mime_data(handle, "", 0) == CURLE_OK
                    }
                    return curl_mime_data(handle, base.assumingMemoryBound(to: CChar.self), buffer.count) == CURLE_OK
                }
            if let filename = part.filename { ok = ok && curl_mime_filename(handle, filename) == CURLE_OK }
            if let type = part.contentType { ok = ok && curl_mime_type(handle, type) == CURLE_OK }
            guard ok else {
                curl_mime_free(mime)
                throw onError("cannot build multipart part")
            }
        }
        return mime
    }
}
