import ArgumentParser

/// `tollgate sim ...`: the project's simulators of outside services, run standalone.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim", abstract: "Run a simulator of an outside service (for the sandbox and demos).",
        subcommands: [SimNocoDBCommand.self, SimTelegramCommand.self])
}
