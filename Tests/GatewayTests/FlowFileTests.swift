import Foundation
import Testing
import TollgateGateway
import TollgateTelegram
import TollgateTestKit

@Suite("Flow file")
struct FlowFileTests {
    @Test func emptyFileMeansDefaults() throws {
        #expect(try FlowFile.parse("", name: "flow.yaml") == .defaults)
    }

    @Test func yamlOverridesPartsAndKeepsTheRest() throws {
        let dir = TestNetwork.temporaryDirectory(prefix: "flow")
        try Data(repeating: 9, count: 100).write(to: URL(fileURLWithPath: dir + "/reminder.mp4"))
        let yaml = """
            # a comment
            welcome:
              text: "Hello {first_name}"
              button: Join
            payment:
              url: https://pay.test/?u={user_id}&r={record_id}
              watch_for: 2h
            reminders:
              - step: first
                delay: 90s
                text: "Video for you"
                video: reminder.mp4
              - step: second
                delay: 1h
                text: "Last call {payment_url}"
                photo: https://img.test/a.jpg
            paid:
              invite_link: https://t.me/+xyz
            """
        let flow = try FlowFile.parse(yaml, name: "flow.yaml", baseDirectory: dir)
        #expect(flow.welcome.text == "Hello {first_name}")
        #expect(flow.getAccessButton == "Join")
        #expect(flow.paymentURL == "https://pay.test/?u={user_id}&r={record_id}")
        #expect(flow.watchFor == .seconds(7200))
        #expect(flow.reminders.map(\.step) == ["first", "second"])
        #expect(flow.reminders[0].delay == .seconds(90))
        guard case .upload(let upload)? = flow.reminders[0].message.media?.file else {
            Issue.record("the video should be read from the file")
            return
        }
        #expect(upload.bytes.count == 100)
        #expect(upload.contentType == "video/mp4")
        #expect(flow.reminders[1].message.media == FlowDefinition.Media(kind: .photo, file: .url("https://img.test/a.jpg")))
        #expect(flow.inviteLink == "https://t.me/+xyz")
        #expect(flow.paid == FlowDefinition.defaults.paid)
        #expect(flow.status == FlowDefinition.defaults.status)
    }

    @Test("on_uncertain sets a message's policy; unset, the place's default holds")
    func onUncertainPerMessage() throws {
        let yaml = """
            welcome:
              text: Hi
              on_uncertain: skip
            reminders:
              - {step: r1, delay: 1m, text: x, on_uncertain: resend}
              - {step: r2, delay: 2m, text: y}
            """
        let flow = try FlowFile.parse(yaml, name: "flow.yaml")
        #expect(flow.welcome.onUncertain == .skip)
        #expect(flow.reminders.map(\.message.onUncertain) == [.resend, nil])
        #expect(FlowDefinition.defaults.welcome.onUncertain == nil)
        let engine = FlowEngine(flow: flow)
        let start = engine.plan(.start, phase: nil)
        let sends = start.steps.compactMap { step -> FlowSend? in
            if case .send(let send) = step { return send }
            return nil
        }
        #expect(sends.map(\.onUncertain) == [.skip], "the file's skip overrides the welcome's resend")
    }

    @Test func jsonIsAcceptedToo() throws {
        let json = #"{"welcome": {"text": "Hi"}, "reminders": [{"step": "r1", "delay": "5m", "text": "x", "video": "file_id:BAAD"}]}"#
        let flow = try FlowFile.parse(json, name: "flow.json")
        #expect(flow.welcome.text == "Hi")
        #expect(flow.reminders[0].message.media?.file == .fileID("BAAD"))
    }

    @Test(arguments: [
        ("welcome:\n  txt: hi\n", 2, "unknown key 'txt'"),
        ("reminders:\n  - step: a\n    delay: soon\n    text: x\n", 3, "'soon' is not a duration"),
        ("paid:\n  text: \"{invite}\"\n", 2, "unknown placeholder {invite}"),
        ("welcome:\n  text: \"{payment_url}\"\n", 2, "unknown placeholder {payment_url}"),
        ("reminders:\n  - step: a\n    delay: 1m\n    text: x\n    video: /nonexistent/v.mp4\n", 5, "cannot read media file"),
        ("reminders:\n  - {step: a, delay: 1m, text: x}\n  - {step: a, delay: 2m, text: y}\n", 3, "used twice"),
        ("welcome:\n  text: [unclosed\n", 3, "syntax error"),
        ("payment:\n  url: ftp://x\n", 2, "must be an http(s)"),
        ("status:\n  paid: \"\"\n", 2, "is empty"),
        ("reminders:\n  - step: a\n    delay: 1m\n", 2, "needs a 'text'"),
        ("welcome:\n  text: hi\n  on_uncertain: twice\n", 3, "must be resend or skip, not 'twice'"),
        ("welcome:\n  text: hi\n  on_uncertain: [resend]\n", 3, "on_uncertain"),
    ] as [(String, Int, String)])
    func badFilesNameTheLineAndTheReason(_ text: String, line: Int, reason: String) {
        do {
            _ = try FlowFile.parse(text, name: "flow.yaml")
            Issue.record("must be refused: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.description.contains(reason), "\(error)")
            #expect(error.description.hasPrefix("flow.yaml line \(line): "), "\(error)")
        }
    }

    @Test func missingFileIsAnError() {
        #expect(throws: FlowFileError.self) { try FlowFile.load(path: "/nonexistent/flow.yaml") }
    }
}
