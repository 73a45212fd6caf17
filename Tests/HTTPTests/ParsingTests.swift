import Testing
import TollgateHTTP
import TollgateHTTPServer

@Suite("Request parsing helpers", .timeLimit(.minutes(1)))
struct ParsingTests {
    @Test("Target, query and form decoding")
    func targets() {
        let request = HTTPServerRequest(method: "GET", target: "/p%2Fq%zz/x+y?a=%41&a=2&b=%E2%82%AC+1&=v&c#frag")
        #expect(request.path == "/p/q%zz/x+y")
        #expect(request.query.map { "\($0.0)=\($0.1)" } == ["a=A", "a=2", "b=€ 1", "=v", "c="])
        #expect(request.queryValue("a") == "A")
        #expect(request.queryValue("missing") == nil)
        let form = HTTPServerRequest(method: "POST", target: "/", body: Array("x=1+2&y=%3D%26&&z".utf8))
        #expect(form.formValues().map { "\($0.0)=\($0.1)" } == ["x=1 2", "y==&", "z="])
    }

    @Test("Multipart: quoted boundary, preamble, a part without content type, an empty part")
    func multipart() throws {
        let body = Array(
            ("preamble to ignore\r\n--b0und\"ary\r\n".replacingOccurrences(of: "\"", with: "")
                + "Content-Disposition: form-data; name=\"a\"\r\n\r\nfirst\r\n"
                + "--b0undary\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x;y \\\"z\\\".txt\"\r\n"
                + "Content-Type: text/plain\r\n\r\nline1\r\nline2\r\n"
                + "--b0undary\r\nContent-Disposition: form-data; name=\"empty\"\r\n\r\n\r\n"
                + "--b0undary--\r\nepilogue").utf8)
        let request = HTTPServerRequest(
            method: "POST", path: "/", headers: [("Content-Type", "multipart/form-data; boundary=\"b0undary\"")],
            body: body)
        let parts = try request.multipartParts()
        #expect(parts.count == 3)
        #expect(parts[0].name == "a" && parts[0].text == "first" && parts[0].contentType == nil)
        #expect(parts[1].name == "f" && parts[1].filename == "x;y \"z\".txt" && parts[1].contentType == "text/plain")
        #expect(parts[1].text == "line1\r\nline2")
        #expect(parts[2].name == "empty" && parts[2].bytes.isEmpty)
    }

    @Test("Multipart errors are HTTPServerError.malformedMultipart")
    func multipartErrors() {
        let noBoundary = HTTPServerRequest(method: "POST", path: "/", headers: [("Content-Type", "multipart/form-data")])
        #expect(throws: HTTPServerError.self) { try noBoundary.multipartParts() }
        let truncated = HTTPServerRequest(
            method: "POST", path: "/", headers: [("content-type", "multipart/form-data; boundary=zz")],
            body: Array("--zz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end".utf8))
        let error = #expect(throws: HTTPServerError.self) { try truncated.multipartParts() }
        #expect(error?.code == .malformedMultipart)
    }

    @Test("jsonBody reports malformedJSON")
    func jsonErrors() {
        let request = HTTPServerRequest(method: "POST", path: "/", body: Array("{not json".utf8))
        let error = #expect(throws: HTTPServerError.self) { try request.jsonBody([String: Int].self) }
        #expect(error?.code == .malformedJSON)
    }

    @Test("Response helpers")
    func responses() {
        let json = HTTPServerResponse.json(["ok": true], status: 202)
        #expect(json.status == 202 && json.headers.first?.1 == "application/json")
        #expect(String(decoding: json.body, as: UTF8.self) == #"{"ok":true}"#)
        let text = HTTPServerResponse.text("hi", status: 404)
        #expect(text.status == 404 && text.body == Array("hi".utf8))
        #expect(HTTPServerResponse.empty(status: 204).body.isEmpty)
    }

    @Test("Client error codes: retryable or not, and a description without secrets")
    func clientErrors() {
        let error = HTTPClientError(
            code: .transport, curlCode: 56, method: "POST", redactedURL: "https://api/bot<redacted>/x", detail: "reset")
        #expect(error.isRetryable)
        #expect(error.description == "HTTPClientError.transport (curl 56): POST https://api/bot<redacted>/x: reset")
        #expect(!HTTPClientError(code: .transport, curlCode: 60, method: "GET", redactedURL: "u").isRetryable)
        #expect(!HTTPClientError(code: .responseTooLarge, method: "GET", redactedURL: "u").isRetryable)
    }
}
