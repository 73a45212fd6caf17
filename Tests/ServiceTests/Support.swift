import Foundation
import Logging
import TollgateHTTP
import TollgateIPC
import TollgateTestKit

let services = ["bot-gateway", "poller-scheduler"]

/// Runs a binary to completion with `environment` (offPool) and returns its exit status and output.
func runToExit(_ name: String, environment: [String: String]) async throws -> (status: Int32?, output: String) {
    let dir = TestNetwork.temporaryDirectory(prefix: "cfg")
    let log = dir + "/out.log"
    let process = try ChildProcess(try TestBinaries.path(of: name), [], environment: environment, output: log)
    let status = await offPool { process.wait(timeout: .seconds(20)) }
    if status == nil { process.kill9() }
    return (status.flatMap(ChildProcess.exitCode), (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
}

let quietLogger: Logger = {
    var l = Logger(label: "service-tests")
    l.logLevel = .critical
    return l
}()

/// The ops HTTP address a service reports in its stats (`info.http`).
func httpAddress(of socket: String) async throws -> String {
    let client = IPCClient(path: socket, logger: quietLogger)
    defer { _ = client }
    let stats = try await client.call(Stats())
    await client.close()
    guard let address = stats.info["http"] else { throw ServiceProcess.Failure("no http address in stats") }
    return address
}

func httpGet(_ client: HTTPClient, _ url: String) async throws -> HTTPResponse {
    try await client.execute(.get(url))
}
