import ArgumentParser

/// Hidden: the echo baseline of `tollgate bench ipc`, run in its own process.
struct EchoServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-echo-server", abstract: "Baseline echo server for `bench ipc` (internal).", shouldDisplay: false)

    @Option(help: "Unix socket path to listen on.")
    var socket: String

    func run() throws {
        EchoServer.run(path: socket)
    }
}
