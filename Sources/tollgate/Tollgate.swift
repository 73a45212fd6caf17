import ArgumentParser
import TollgateCLI

/// The `tollgate` executable: the root command's configuration (subcommands) lives in TollgateCLI.
@main
struct Tollgate: AsyncParsableCommand {
    static let configuration = TollgateCommand.configuration
}
