import Testing
import TollgateSystemd
import TollgateTestKit

#if canImport(Glibc)
    import Glibc
#endif

/// Type checks on real sockets made in-process; fd passing itself is tested end to end.
@Suite struct SocketActivationTests {
    @Test func unixListenerIsRecognised() throws {
        let directory = TestNetwork.temporaryDirectory(prefix: "sa")
        defer { rmdir(directory) }
        let path = directory + "/s.sock"
        let fd = try Sockets.unixListener(path: path)
        defer {
            close(fd)
            unlink(path)
        }
        #expect(SocketActivation.isUnixStreamListener(fd: fd))
        #expect(SocketActivation.isUnixStreamListener(fd: fd, path: path))
        #expect(!SocketActivation.isUnixStreamListener(fd: fd, path: directory + "/other.sock"))
        #expect(!SocketActivation.isInetStreamListener(fd: fd))
    }

    @Test func tcpListenerIsRecognised() throws {
        let (fd, port) = try Sockets.tcpListener()
        defer { close(fd) }
        #expect(SocketActivation.isInetStreamListener(fd: fd))
        #expect(SocketActivation.isInetStreamListener(fd: fd, port: port))
        #expect(!SocketActivation.isInetStreamListener(fd: fd, port: port &+ 1))
        #expect(!SocketActivation.isUnixStreamListener(fd: fd))
    }

    @Test func nonListenersAreRefused() {
        let stream = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let datagram = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer {
            close(stream)
            close(datagram)
        }
        #expect(!SocketActivation.isUnixStreamListener(fd: stream))  // not listening
        #expect(!SocketActivation.isUnixStreamListener(fd: datagram))
        #expect(!SocketActivation.isUnixStreamListener(fd: -1))
        #expect(!SocketActivation.isInetStreamListener(fd: -1))
    }

    @Test func listenerByNameChecksTheType() throws {
        let (tcp, _) = try Sockets.tcpListener()
        defer { close(tcp) }
        let fds = [ListenFD(fd: tcp, name: "web"), ListenFD(fd: tcp, name: "web-again")]
        #expect(SocketActivation.first(named: "web", in: fds) == ListenFD(fd: tcp, name: "web"))
        #expect(SocketActivation.first(named: "ipc", in: fds) == nil)
        #expect(try SocketActivation.listener(named: "web", kind: .inetStream, in: fds)?.fd == tcp)
        #expect(try SocketActivation.listener(named: "ipc", kind: .unixStream, in: fds) == nil)
        let error = #expect(throws: SystemdError.self) {
            try SocketActivation.listener(named: "web", kind: .unixStream, in: fds)
        }
        #expect(error?.code == .wrongSocketType)
        #expect(error?.description.contains("\"web\"") == true)
        #expect(error?.description.contains("Unix stream") == true)
    }

    @Test func notActivatedMeansNoDescriptors() {
        // The test runner is not socket-activated (LISTEN_PID, if inherited, is not ours).
        #expect(SocketActivation.listenFDs(unsetEnvironment: false).isEmpty)
    }
}
