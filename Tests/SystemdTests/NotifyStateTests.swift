import Testing
import TollgateCore

@testable import TollgateSystemd

@Suite struct NotifyStateTests {
    @Test(arguments: [
        (NotifyState.ready, "READY=1"),
        (.stopping, "STOPPING=1"),
        (.reloading, "RELOADING=1"),
        (.watchdog, "WATCHDOG=1"),
        (.watchdogTrigger, "WATCHDOG=trigger"),
        (.status("serving 3 chats"), "STATUS=serving 3 chats"),
        (.extendTimeout(.seconds(90)), "EXTEND_TIMEOUT_USEC=90000000"),
        (.extendTimeout(.milliseconds(1500)), "EXTEND_TIMEOUT_USEC=1500000"),
        (.mainPID(4242), "MAINPID=4242"),
        (.errno(110), "ERRNO=110"),
        (.custom("FDSTORE=1"), "FDSTORE=1"),
    ])
    func rendersTheWireLine(state: NotifyState, expected: String) {
        #expect(state.line == expected)
    }

    @Test func severalStatesAreJoinedByNewlines() {
        #expect(NotifyState.render([.ready, .status("up")]) == "READY=1\nSTATUS=up")
        #expect(NotifyState.render([]) == "")
    }

    @Test func statusIsOneLine() {
        #expect(NotifyState.status("a\nb\r\nc\rd").line == "STATUS=a b c d")
        #expect(NotifyState.status("tab\there\u{0}nul\u{2028}ls").line == "STATUS=tab here nul ls")
        #expect(NotifyState.status("ünïcödé 🚦 kept").line == "STATUS=ünïcödé 🚦 kept")
    }

    @Test func customCannotSmuggleASecondAssignment() {
        #expect(NotifyState.custom("X_STATE=ok\nREADY=1").line == "X_STATE=ok READY=1")
    }

    @Test func statusIsRedacted() {
        let secret = Secret("notify-test-secret-\(UInt64.random(in: 1...UInt64.max))")
        let line = NotifyState.status("token \(secret.exposedValue)\nand more").line
        #expect(line == "STATUS=token <redacted> and more")
        #expect(!line.contains(secret.exposedValue))
        let url = NotifyState.status("GET https://api.telegram.org/bot123456:AAbb-cc_DD/getMe failed").line
        #expect(url == "STATUS=GET https://api.telegram.org/bot<redacted>/getMe failed")
    }

    @Test func extendTimeoutTruncatesToMicrosecondsAndClamps() {
        #expect(NotifyState.microseconds(.nanoseconds(1_999)) == 1)
        #expect(NotifyState.microseconds(.zero) == 0)
        #expect(NotifyState.microseconds(.milliseconds(-5)) == 0)
        #expect(NotifyState.microseconds(.seconds(-3)) == 0)
        #expect(NotifyState.microseconds(.seconds(Int64.max)) == UInt64.max)
    }

    @Test func failureLogsNameTheKeyNotTheText() {
        #expect(NotifyState.status("secret stuff").kindName == "STATUS")
        #expect(NotifyState.custom("FDSTORE=1").kindName == "FDSTORE")
    }
}
