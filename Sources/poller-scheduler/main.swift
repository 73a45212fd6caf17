import TollgateCore
import TollgateRuntime
import TollgateScheduler

/// poller-scheduler: delayed jobs, payment watching; any number of instances.
struct PollerConfig: Sendable {
    var nocodbURL: String
    var nocodbToken: Secret?
    var nocodbTable: String
    var scheduler: SchedulerSettings

    static func read(_ r: inout ConfigReader) -> PollerConfig {
        PollerConfig(
            nocodbURL: r.httpURL("NOCODB_URL"),
            nocodbToken: r.secret("NOCODB_TOKEN", credential: "nocodb-token"),
            nocodbTable: r.string("NOCODB_TABLE_ID"),
            scheduler: SchedulerSettings.read(&r))
    }
}

await ServiceMain.run(kind: .poller, readConfig: PollerConfig.read) { host, config in
    PollerAssembly(host: host, settings: config.scheduler).components
}
