import ArgumentParser
import TollgateCLI

// The root command lives in TollgateCLI; this thin main parses and runs it.
do {
    var command = try TollgateCommand.parseAsRoot()
    if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
    } else {
        try command.run()
    }
} catch {
    TollgateCommand.exit(withError: error)
}
