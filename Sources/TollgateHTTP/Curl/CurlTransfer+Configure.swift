import CCurl
import CCurlShim
import TollgateCore

extension CurlTransfer {
    /// Sets every option of the easy handle for `request`; called once, from `init`.
    func configure(_ request: HTTPRequest) throws(HTTPClientError) {
        try CurlRequestValidator.validate(request, error: { error(.transport, curlCode: 43, detail: $0) })
        let me = Unmanaged.passUnretained(self).toOpaque()
        let options = CurlOptions(easy: easy, onError: { code, what in
            self.error(.transport, curlCode: Int(code.rawValue), detail: "cannot set \(what)")
        })
        try options.set(CURLOPT_URL, request.url, "URL")
        try options.set(CURLOPT_PROTOCOLS_STR, "http,https", "protocols")
        if let path = request.unixSocketPath { try options.set(CURLOPT_UNIX_SOCKET_PATH, path, "unix socket path") }
        try options.set(CURLOPT_NOSIGNAL, 1, "nosignal")
        try options.set(CURLOPT_FOLLOWLOCATION, 0, "followlocation")
        try options.set(CURLOPT_TCP_KEEPALIVE, 1, "tcp keepalive")
        try options.set(CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.curlMilliseconds, "connect timeout")
        try options.set(CURLOPT_TIMEOUT_MS, request.timeout.curlMilliseconds, "timeout")
        try options.set(CURLOPT_MAXFILESIZE_LARGE, offset: max(0, request.maxResponseBytes), "max file size")
        try options.set(CURLOPT_ERRORBUFFER, pointer: UnsafeRawPointer(errorBuffer), "error buffer")
        try options.set(CURLOPT_PRIVATE, pointer: me, "private")
        try options.set(CURLOPT_WRITEDATA, pointer: me, "write data")
        try options.set(CURLOPT_HEADERDATA, pointer: me, "header data")
        try options.set(CURLOPT_WRITEFUNCTION, callback: curlWriteBody, "write function")
        try options.set(CURLOPT_HEADERFUNCTION, callback: curlWriteHeader, "header function")

        var headerLines = request.headers.map { name, value in
            value.isEmpty ? "\(name);" : "\(name): \(value)"  // "Name;" sends an empty header
        }
        headerLines.append("Expect:")  // no 100-continue round trip before a body
        // The verb libcurl derives from the body options; any other is sent as CUSTOMREQUEST.
        let impliedMethod: String
        switch request.body {
        case .none:
            switch request.method {
            case "HEAD":
                try options.set(CURLOPT_NOBODY, 1, "HEAD")
                impliedMethod = "HEAD"
            case "POST", "PUT", "PATCH":
                try options.setPostBody([])  // Content-Length: 0
                impliedMethod = "POST"
            default:
                try options.set(CURLOPT_HTTPGET, 1, "GET")
                impliedMethod = "GET"
            }
        case .bytes(let bytes, let contentType):
            impliedMethod = "POST"
            try options.setPostBody(bytes)
            if HTTPResponse.firstHeader("content-type", in: request.headers) == nil {
                headerLines.append("Content-Type: \(contentType)")
            }
        case .multipart(let parts):
            impliedMethod = "POST"
            mime = try CurlMime.build(parts, easy: easy, onError: { error(.transport, curlCode: 27, detail: $0) })
            try options.set(CURLOPT_MIMEPOST, pointer: UnsafeRawPointer(mime), "multipart body")
        }
        if request.method != impliedMethod {
            try options.set(CURLOPT_CUSTOMREQUEST, request.method, "method")
        }
        for line in headerLines {
            guard let appended = curl_slist_append(headerList, line) else {
                throw error(.transport, curlCode: 27, detail: "curl_slist_append failed")
            }
            headerList = appended
        }
        try options.set(CURLOPT_HTTPHEADER, pointer: UnsafeRawPointer(headerList), "headers")
    }
}

private let curlWriteBody: tollgate_curl_data_cb = { pointer, size, count, userdata in
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
    return transfer.receiveBody(UnsafeRawBufferPointer(start: pointer, count: size * count))
}

private let curlWriteHeader: tollgate_curl_data_cb = { pointer, size, count, userdata in
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
    return transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: pointer, count: size * count))
}

extension Duration {
    /// Whole milliseconds for a libcurl `_MS` option, at least 1 (0 would mean "no timeout").
    var curlMilliseconds: Int { Int(max(1, milliseconds)) }
}
