import Testing
import TollgateSystemd
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct SystemdNotifierTests {
    @Test func sendsOneDatagramPerCall() throws {
        let listener = try NotifySocketListener()
        defer { listener.close() }
        let notifier = SystemdNotifier(socketPath: listener.path)
        #expect(notifier.isEnabled)
        #expect(notifier.socketPath == listener.path)

        #expect(notifier.notify(.ready, .status("first\nline")) == .sent)
        #expect(notifier.notify([.watchdog]) == .sent)
        #expect(notifier.notify(.stopping) == .sent)

        let stopping = try #require(listener.waitFor("STOPPING=1", timeout: .seconds(5)))
        let messages = listener.messages
        #expect(messages.map(\.text) == ["READY=1\nSTATUS=first line", "WATCHDOG=1", "STOPPING=1"])
        #expect(messages[0].lines == ["READY=1", "STATUS=first line"])
        #expect(messages[0].value(of: "STATUS") == "first line")
        #expect(messages.allSatisfy { $0.senderPID == getpid() })
        #expect(messages[0].time <= messages[1].time && messages[1].time <= stopping.time)
        #expect(listener.count(of: "WATCHDOG=1") == 1)
        #expect(listener.count(of: "READY=1", after: stopping.time) == 0)
    }

    @Test func anEmptyListSendsNothing() throws {
        let listener = try NotifySocketListener()
        defer { listener.close() }
        let notifier = SystemdNotifier(socketPath: listener.path)
        #expect(notifier.notify([]) == .sent)
        notifier.notify(.custom("X_MARK=1"))
        #expect(listener.waitFor("X_MARK=1", timeout: .seconds(5)) != nil)
        #expect(listener.messages.count == 1)
    }

    @Test func manyMessagesArriveInOrder() throws {
        let listener = try NotifySocketListener()
        defer { listener.close() }
        let notifier = SystemdNotifier(socketPath: listener.path)
        for i in 0..<200 { notifier.notify(.status("n=\(i)")) }
        #expect(listener.waitFor("STATUS=n=199", timeout: .seconds(5)) != nil)
        #expect(listener.messages.map { $0.value(of: "STATUS") } == (0..<200).map { "n=\($0)" })
    }

    @Test func aMissingSocketIsAnErrorNotACrash() {
        let notifier = SystemdNotifier(socketPath: "/nonexistent-dir-\(getpid())/notify.sock")
        guard case .failed(let error) = notifier.notify(.ready) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .notifyFailed)
        #expect(error.errno == ENOENT)
        #expect("\(error)".contains("No such file"))
    }

    @Test func aTooLongPathIsRefused() {
        let notifier = SystemdNotifier(socketPath: "/tmp/" + String(repeating: "x", count: 200))
        guard case .failed(let error) = notifier.notify(.ready) else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .invalidNotifySocket)
    }

    @Test func pingIntervalIsHalfTheWatchdog() throws {
        let notifier = SystemdNotifier(socketPath: "/unused", watchdogInterval: .seconds(30))
        #expect(notifier.watchdogInterval == .seconds(30))
        #expect(notifier.recommendedPingInterval == .seconds(15))
        #expect(SystemdNotifier(socketPath: "/unused").recommendedPingInterval == nil)
    }

    @Test func closingTheListenerRemovesItsSocket() throws {
        let listener = try NotifySocketListener()
        #expect(listener.path.utf8.count < 108)
        #expect(access(listener.path, F_OK) == 0)
        listener.close()
        listener.close()
        #expect(access(listener.path, F_OK) != 0)
        #expect(access(listener.directory, F_OK) != 0)
        let notifier = SystemdNotifier(socketPath: listener.path)
        #expect(notifier.notify(.ready) != .sent)
    }
}
