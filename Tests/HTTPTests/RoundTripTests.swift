import Testing
import TollgateHTTP
import TollgateHTTPServer

struct Greeting: Codable, Equatable {
    var name: String
    var count: Int
}

@Suite("Client and server round trips", .timeLimit(.minutes(1)))
struct RoundTripTests {
    @Test("POST JSON is decoded by the server and its JSON reply by the client")
    func postJSON() async throws {
        try await withServer(handler: { request in
            guard request.method == "POST", request.path == "/greet",
                request.header("content-type") == "application/json",
                let greeting = try? request.jsonBody(Greeting.self)
            else { return .text("bad request", status: 400) }
            return .json(Greeting(name: "hello \(greeting.name)", count: greeting.count + 1), status: 201)
        }) { server in
            let client = HTTPClient(name: "json", logger: quietLogger)
            let request = try HTTPRequest.json("POST", server.base + "/greet", Greeting(name: "ana", count: 1))
            let response = try await client.execute(request)
            #expect(response.status == 201)
            #expect(response.header("Content-Type") == "application/json")
            #expect(try response.decode(Greeting.self) == Greeting(name: "hello ana", count: 2))
        }
    }

    @Test("GET JSON, headers both ways, case-insensitive lookup")
    func headersBothWays() async throws {
        try await withServer(handler: { request in
            HTTPServerResponse(
                status: 200,
                headers: [("X-Echo", request.header("x-request-id") ?? "missing"), ("Content-Type", "application/json")],
                body: Array(#"{"name":"\#(request.header("X-CUSTOM") ?? "")","count":\#(request.headers.count)}"#.utf8))
        }) { server in
            let client = HTTPClient(name: "headers", logger: quietLogger)
            let response = try await client.execute(
                .get(server.base + "/h", headers: [("X-Request-Id", "r-42"), ("x-custom", "value with spaces")]))
            #expect(response.status == 200)
            #expect(response.header("x-echo") == "r-42")
            #expect(response.header("X-ECHO") == "r-42")
            #expect(response.header("content-length") != nil)
            #expect(response.header("absent") == nil)
            #expect(try response.decode(Greeting.self).name == "value with spaces")
        }
    }

    @Test("Query parameters and path are percent-decoded; form bodies too")
    func queryAndForm() async throws {
        try await withServer(handler: { request in
            var lines = ["path=\(request.path)"]
            lines += request.query.map { "q:\($0.0)=\($0.1)" }
            lines += request.formValues().map { "f:\($0.0)=\($0.1)" }
            lines.append("chat=\(request.queryValue("chat_id") ?? "-")")
            return .text(lines.joined(separator: "\n"))
        }) { server in
            let client = HTTPClient(name: "query", logger: quietLogger)
            let get = try await client.execute(
                .get(server.base + "/a%20b/c?chat_id=-100123&text=hello+world%21&empty=&flag&utf=%C3%A9t%C3%A9"))
            #expect(
                get.text == """
                    path=/a b/c
                    q:chat_id=-100123
                    q:text=hello world!
                    q:empty=
                    q:flag=
                    q:utf=été
                    chat=-100123
                    """)

            let form = HTTPRequest(
                method: "POST", url: server.base + "/form",
                body: .bytes(Array("a=1&b=x+y%26z&c=%E2%9C%93".utf8), contentType: "application/x-www-form-urlencoded"))
            let posted = try await client.execute(form)
            #expect(posted.text == "path=/form\nf:a=1\nf:b=x y&z\nf:c=✓\nchat=-")
        }
    }

    @Test("Multipart upload: fields and a binary file arrive intact")
    func multipartUpload() async throws {
        // Every byte value, CR LF and dashes that look like a boundary: nothing may be altered.
        var file: [UInt8] = []
        for round in 0..<64 {
            file += (0...255).map { UInt8($0) }
            file += Array("\r\n--\r\n------------------------\(round)\r\n".utf8)
        }
        let expected = file
        try await withServer(handler: { request in
            guard let parts = try? request.multipartParts(), parts.count == 3 else {
                return .text("not multipart", status: 400)
            }
            let chat = parts[0]
            let caption = parts[1]
            let document = parts[2]
            let ok =
                chat.name == "chat_id" && chat.text == "42" && chat.filename == nil
                && caption.name == "caption" && caption.text == "ünïcode caption; \"quoted\""
                && document.name == "document" && document.filename == "report.bin"
                && document.contentType == "application/octet-stream" && document.bytes == expected
            return ok ? .text("ok \(document.bytes.count)") : .text("mismatch", status: 422)
        }) { server in
            let client = HTTPClient(name: "multipart", logger: quietLogger)
            let request = HTTPRequest(
                method: "POST", url: server.base + "/bot1:x/sendDocument",
                body: .multipart([
                    .field("chat_id", "42"),
                    .field("caption", "ünïcode caption; \"quoted\""),
                    .file("document", filename: "report.bin", bytes: file),
                ]))
            let response = try await client.execute(request)
            #expect(response.status == 200)
            #expect(response.text == "ok \(file.count)")
        }
    }

    @Test("Methods other than GET and POST are sent as given, with or without a body")
    func methods() async throws {
        try await withServer(handler: { request in
            .text("\(request.method) \(request.body.count)")
        }) { server in
            let client = HTTPClient(name: "methods", logger: quietLogger)
            let patch = HTTPRequest(
                method: "PATCH", url: server.base + "/r", body: .bytes(Array("[1]".utf8), contentType: "application/json"))
            #expect(try await client.execute(patch).text == "PATCH 3")
            #expect(try await client.execute(HTTPRequest(method: "DELETE", url: server.base + "/r")).text == "DELETE 0")
            #expect(try await client.execute(HTTPRequest(method: "POST", url: server.base + "/r")).text == "POST 0")
            let head = try await client.execute(HTTPRequest(method: "HEAD", url: server.base + "/r"))
            #expect(head.status == 200 && head.body.isEmpty)
            #expect(try await client.execute(.get(server.base + "/r")).text == "GET 0")
        }
    }
}
