import Foundation
import TollgateIPC

/// A benchmark runnable as `tollgate bench NAME`.
///
/// It prints human-readable progress and figures through ``BenchOutput`` and returns its figures;
/// with `--json` the command prints them (plus the machine they were measured on) as one JSON
/// object on the last line of stdout, which tools outside the project read.
public protocol Benchmark: Sendable {
    /// The name on the command line (`ipc`, `scheduler`, `polling`, `gateway`).
    static var name: String { get }
    /// One line for `tollgate bench --help`.
    static var summary: String { get }
    init()
    func run(_ options: BenchOptions, _ output: BenchOutput) async throws -> [String: JSONValue]
}

/// Options every benchmark understands.
public struct BenchOptions: Sendable {
    /// A shorter run (smaller workloads) for smoke tests; figures are marked `quick`.
    public var quick: Bool
    /// Where a benchmark may write artefacts (time series for plots).
    public var outputDirectory: String
    /// The directory holding the built binaries (bot-gateway, poller-scheduler).
    public var binariesDirectory: String

    public init(quick: Bool, outputDirectory: String, binariesDirectory: String) {
        self.quick = quick
        self.outputDirectory = outputDirectory
        self.binariesDirectory = binariesDirectory
    }
}

/// Human-readable output of a benchmark (stderr when `--json` is given, so stdout stays parseable).
public struct BenchOutput: Sendable {
    let toStderr: Bool

    public func line(_ text: String) {
        if toStderr {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        } else {
            print(text)
        }
    }
}
