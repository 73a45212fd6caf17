import Foundation
import Testing
import TollgateFuzzing
import TollgateTestKit

/// Every committed corpus input — the seeds, and each input a fuzzer found a defect with
/// (`regression-*`) — through its harness on every test run: a defect fixed once stays fixed.
@Suite struct FuzzCorpusTests {
    /// Off the cooperative pool: a harness waits for async work as the fuzzer's thread does.
    @Test(arguments: FuzzTarget.allCases)
    func corpusRunsClean(_ target: FuzzTarget) async throws {
        let directory = try #require(Bundle.module.resourceURL).appendingPathComponent("Corpus/\(target.rawValue)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(!files.isEmpty, "no seeds for \(target.rawValue)")
        for file in files {
            let data = Array(try Data(contentsOf: directory.appendingPathComponent(file)))
            await offPool { target.run(data) }
        }
    }
}
