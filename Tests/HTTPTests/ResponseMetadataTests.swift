import Foundation
import Testing
import TollgateHTTP
import TollgateHTTPServer
import TollgateTestKit

@testable import TollgateHTTP

@Suite("Retry-After and redaction", .timeLimit(.minutes(1)))
struct ResponseMetadataTests {
    @Test("Retry-After on a 429, as delta seconds and as an HTTP-date")
    func retryAfter() async throws {
        let start = Date()
        let inTwoMinutes = Self.httpDate(start.addingTimeInterval(120))
        try await withServer(handler: { request in
            switch request.path {
            case "/seconds":
                return HTTPServerResponse(
                    status: 429, headers: [("Retry-After", "7")], body: Array("Too Many Requests".utf8))
            case "/date":
                return HTTPServerResponse(status: 429, headers: [("Retry-After", inTwoMinutes)])
            case "/past":
                return HTTPServerResponse(status: 503, headers: [("Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT")])
            default:
                return .text("no header")
            }
        }) { server in
            let client = HTTPClient(name: "retry-after", logger: quietLogger)
            let seconds = try await client.execute(.get(server.base + "/seconds"))
            #expect(seconds.status == 429)
            #expect(seconds.retryAfter == .seconds(7))
            #expect(seconds.text == "Too Many Requests")

            let date = try await client.execute(.get(server.base + "/date"))
            let elapsed = Date().timeIntervalSince(start)
            let wait = try #require(date.retryAfter)
            // The date is `start` + 120 s in whole seconds, and the client measured from a moment
            // between `start` and now: the wait lies in (119 s - elapsed, 120 s], however long the
            // requests took. (A fixed lower bound would assume the test ran fast.)
            #expect(wait <= .seconds(120))
            #expect(wait >= .seconds(119) - .seconds(elapsed), "elapsed \(elapsed) s")

            #expect(try await client.execute(.get(server.base + "/past")).retryAfter == .zero)
            #expect(try await client.execute(.get(server.base + "/none")).retryAfter == nil)
        }
    }

    @Test("Retry-After parsing: the three HTTP-date forms, junk and spaces")
    func retryAfterParsing() {
        let now = 784_111_777  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:50:37 GMT", now: now) == .seconds(60))
        #expect(RetryAfter.parse("Sunday, 06-Nov-94 08:49:47 GMT", now: now) == .seconds(10))
        #expect(RetryAfter.parse("Sun Nov  6 08:49:40 1994", now: now) == .seconds(3))
        #expect(RetryAfter.parse(" 30 ", now: now) == .seconds(30))
        #expect(RetryAfter.parse("0", now: now) == .zero)
        #expect(RetryAfter.parse("soon", now: now) == nil)
        #expect(RetryAfter.parse("-5", now: now) == nil)
        #expect(RetryAfter.parse("", now: now) == nil)
    }

    @Test("A bot token in the URL never reaches an error description or a log line")
    func redaction() async throws {
        let capture = LogCapture()
        let client = HTTPClient(name: "redact", logger: capture.logger("client"))
        let port = TestNetwork.freePort()
        let url = "http://127.0.0.1:\(port)/bot123456:TEST-secret/getMe"
        #expect(HTTPRequest.get(url).redactedURL == "http://127.0.0.1:\(port)/bot<redacted>/getMe")
        let error = await #expect(throws: HTTPClientError.self) { try await client.execute(.get(url)) }
        let failure = try #require(error)
        #expect(failure.code == .connectFailed)
        #expect(!failure.description.contains("TEST-secret"))
        #expect(!String(describing: failure).contains("TEST-secret"))
        #expect(!String(reflecting: failure).contains("TEST-secret"))
        #expect(failure.description.contains("GET http://127.0.0.1:\(port)/bot<redacted>/getMe"))

        // A successful request logs its line too, redacted.
        try await withServer(logger: capture.logger("server"), handler: { _ in .text("{}") }) { server in
            let response = try await client.execute(.get(server.base + "/bot123456:TEST-secret/getMe"))
            #expect(response.status == 200)
        }
        #expect(capture.lines.count >= 2)
        #expect(!capture.contains("TEST-secret"))
        #expect(capture.contains("bot<redacted>"))
    }

    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
