import Testing
@testable import TollgateCore

@Suite struct RedactorTests {
    @Test func registeredSecretsAreReplaced() {
        let r = Redactor()
        r.register("s3cr3t-value")
        #expect(r.redact("token=s3cr3t-value and again s3cr3t-value") == "token=<redacted> and again <redacted>")
    }

    @Test func telegramBotPathsAreReplacedEvenWhenUnregistered() {
        let r = Redactor()
        let line = "GET https://api.telegram.org/bot123456:ABC-def_ghi/getUpdates failed"
        #expect(r.redact(line) == "GET https://api.telegram.org/bot<redacted>/getUpdates failed")
    }

    @Test func pathsThatOnlyLookSimilarAreKept() {
        let r = Redactor()
        #expect(r.redact("/bots/list and /bot/ and /bot12") == "/bots/list and /bot/ and /bot12")
    }

    @Test func shortSecretsAreNotRegistered() {
        let r = Redactor()
        r.register("ab")
        #expect(r.redact("abc") == "abc")
    }

    @Test func secretNeverPrintsItsValue() {
        let s = Secret("123456:TEST-token-for-tests")
        #expect("\(s)" == "<redacted>")
        #expect(String(describing: s) == "<redacted>")
        #expect(String(reflecting: s) == "<redacted>")
        #expect(Redactor.shared.redact("x 123456:TEST-token-for-tests y") == "x <redacted> y")
    }
}
