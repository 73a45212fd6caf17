import Foundation
import Testing
import TollgateTestKit

/// Configuration is validated at start: every problem on its own line, exit status 78, no secret echoed.
@Suite(.timeLimit(.minutes(2))) struct ConfigurationTests {
    @Test(arguments: services) func missingSettingsAreListedOneLineEach(_ name: String) async throws {
        let (status, output) = try await runToExit(name, environment: ["PATH": "/usr/bin:/bin"])
        #expect(status == 78, "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        var expected = ["NOCODB_URL", "NOCODB_TOKEN", "NOCODB_TABLE_ID"]
        if name == "bot-gateway" { expected.append("BOT_TOKEN") }
        for variable in expected {
            #expect(lines.contains { $0.hasPrefix("\(name): configuration: \(variable): missing") }, "\(variable) in \(output)")
        }
        #expect(lines.last == "\(name): refusing to start (\(expected.count) configuration problem(s))")
    }

    @Test(arguments: services) func badValuesAreNamedWithoutEchoingSecrets(_ name: String) async throws {
        let dir = TestNetwork.temporaryDirectory(prefix: "cfg")
        var env = ServiceProcess.environment(redisURL: "redis://:hunter2-secret@[::1/0", directory: dir)
        env["SHUTDOWN_GRACE"] = "soon"
        env[name == "bot-gateway" ? "GATEWAY_HTTP" : "POLLER_HTTP"] = "nowhere"
        env["IPC_MAX_FRAME_BYTES"] = "12"
        env["LOG_LEVEL"] = "chatty"
        let (status, output) = try await runToExit(name, environment: env)
        #expect(status == 78)
        for variable in ["REDIS_URL", "SHUTDOWN_GRACE", name == "bot-gateway" ? "GATEWAY_HTTP" : "POLLER_HTTP", "IPC_MAX_FRAME_BYTES", "LOG_LEVEL"] {
            #expect(output.contains("configuration: \(variable):"), "\(variable) in \(output)")
        }
        #expect(!output.contains("hunter2-secret"))
        #expect(!output.contains("TEST-token-not-real"))
    }

    @Test func configFileAndSystemdCredentialsAreRead() async throws {
        let redis = try RedisServer()
        let dir = TestNetwork.temporaryDirectory(prefix: "cfg")
        let credentials = dir + "/credentials"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try "123456:TEST-token-from-credential\n".write(toFile: credentials + "/bot-token", atomically: true, encoding: .utf8)
        let file = dir + "/tollgate.env"
        try """
        # settings shared by both services
        NOCODB_URL=http://127.0.0.1:9
        NOCODB_TOKEN="TEST-nocodb-from-file"
        NOCODB_TABLE_ID=tbl_from_file
        """.write(toFile: file, atomically: true, encoding: .utf8)
        var env = ServiceProcess.environment(redisURL: redis.url, directory: dir)
        for key in ["BOT_TOKEN", "NOCODB_URL", "NOCODB_TOKEN", "NOCODB_TABLE_ID"] { env[key] = nil }
        env["TOLLGATE_CONFIG"] = file
        env["CREDENTIALS_DIRECTORY"] = credentials
        let service = try ServiceProcess("bot-gateway", environment: env, logPath: dir + "/gw.log")
        try await service.waitUntilReady()
        let status = await service.stop()
        #expect(status.flatMap(ChildProcess.exitCode) == 0)
        #expect(!service.log().contains("TEST-token-from-credential"))
    }

    @Test func malformedConfigFileLinesAreReported() async throws {
        let dir = TestNetwork.temporaryDirectory(prefix: "cfg")
        let file = dir + "/bad.env"
        try "NOCODB_URL=http://127.0.0.1:9\nthis line has no equals sign\n".write(toFile: file, atomically: true, encoding: .utf8)
        var env = ServiceProcess.environment(redisURL: "redis://127.0.0.1:9/0", directory: dir)
        env["TOLLGATE_CONFIG"] = file
        let (status, output) = try await runToExit("poller-scheduler", environment: env)
        #expect(status == 78)
        #expect(output.contains("\(file) line 2: expected KEY=VALUE"), "\(output)")
    }
}
