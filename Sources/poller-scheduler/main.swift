import TollgateCore
import TollgatePayments
import TollgateRuntime
import TollgateScheduler

/// poller-scheduler: delayed jobs, payment watching; any number of instances.
struct PollerConfig: Sendable {
    var scheduler: SchedulerSettings
    /// NocoDB (`NOCODB_URL`, `NOCODB_TOKEN`, `NOCODB_TABLE_ID`, ...) and payment watching (`PAYMENTS_*`).
    var payments: PaymentsConfig

    static func read(_ r: inout ConfigReader) -> PollerConfig {
        PollerConfig(scheduler: SchedulerSettings.read(&r), payments: PaymentsConfig.read(&r))
    }
}

await ServiceMain.run(kind: .poller, readConfig: PollerConfig.read) { host, config in
    var poller = PollerAssembly(host: host, settings: config.scheduler)
    let payments = PaymentsComponent(
        host: host, config: config.payments, outcomes: PaymentJobsOutcomes(poller.paymentJobs),
        leadership: poller.leadership)
    poller.components += payments.services
    return poller.components
}
