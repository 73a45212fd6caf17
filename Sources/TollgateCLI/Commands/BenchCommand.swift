import ArgumentParser
import Foundation
import TollgateIPC

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark (or all of them) and print its figures.",
        discussion: BenchmarkRegistry.all.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n"))

    @Argument(help: "Benchmark name; all of them when omitted.")
    var name: String?

    @Flag(help: "Print one JSON object with the figures as the last line of stdout.")
    var json = false

    @Flag(help: "Smaller workloads, for a smoke test.")
    var quick = false

    @Option(help: "Directory for artefacts (time series, plots).")
    var output = "bench-out"

    @Option(help: "Directory holding the built bot-gateway and poller-scheduler binaries.")
    var bin: String?

    func run() async throws {
        let selected: [any Benchmark.Type]
        if let name {
            guard let b = BenchmarkRegistry.named(name) else {
                throw ValidationError("unknown benchmark '\(name)'; known: \(BenchmarkRegistry.all.map { $0.name }.joined(separator: ", "))")
            }
            selected = [b]
        } else {
            selected = BenchmarkRegistry.all
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let options = BenchOptions(quick: quick, outputDirectory: output, binariesDirectory: bin ?? Self.ownDirectory())
        let out = BenchOutput(toStderr: json)
        var results: [String: JSONValue] = [:]
        for benchmark in selected {
            out.line("== bench \(benchmark.name): \(benchmark.summary)")
            let figures = try await Self.runOne(benchmark, options, out)
            results[benchmark.name] = .object(figures)
        }
        let machine = MachineInfo.collect()
        out.line("measured on: \(machine.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        if json {
            var object: [String: JSONValue] = ["machine": .object(machine.mapValues { .string($0) }), "quick": .bool(quick)]
            if let name { object["benchmark"] = .string(name) }
            object["results"] = .object(results)
            let data = try IPCCoding.encode(JSONValue.object(object))
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// Opens the existential (`any Benchmark.Type`) through a generic: calling `init().run` on the
    /// existential metatype directly crashes the Swift 6.3.1 compiler in SILGen.
    static func runOne<B: Benchmark>(_: B.Type, _ options: BenchOptions, _ out: BenchOutput) async throws -> [String: JSONValue] {
        try await B().run(options, out)
    }

    /// The directory of the running `tollgate` binary (the other binaries are built next to it).
    static func ownDirectory() -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    }
}
