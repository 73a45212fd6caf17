import ArgumentParser

/// `tollgate`: the operator's command line.
public struct TollgateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tollgate",
        abstract: "Operate a Tollgate deployment: status, benchmarks, simulators, the demo.",
        subcommands: CommandRegistry.all)

    public init() {}
}

/// The subcommands of `tollgate` (each feature adds its command here).
enum CommandRegistry {
    static let all: [any ParsableCommand.Type] = [
        StatusCommand.self,
        ClubCommand.self,
        BroadcastCommand.self,
        BenchCommand.self,
        EchoServerCommand.self,
        SimCommand.self,
        DemoCommand.self,
    ]
}
