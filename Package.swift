// swift-tools-version:6.1
import PackageDescription

// Tollgate: a paid-access Telegram bot backend — two services (bot-gateway, poller-scheduler)
// that talk length-prefixed JSON over Unix sockets and share Redis. Logic lives in libraries by
// concern; the three executables only read configuration and start a ServiceGroup.

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]
let log: Target.Dependency = .product(name: "Logging", package: "swift-log")
let lifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")

let package = Package(
    name: "tollgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bot-gateway", targets: ["bot-gateway"]),
        .executable(name: "poller-scheduler", targets: ["poller-scheduler"]),
        .executable(name: "tollgate", targets: ["tollgate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // MARK: C libraries (system-library targets; nothing above the wrappers imports them)
        .systemLibrary(
            name: "CHiredis", path: "Sources/CHiredis",
            providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CCurlShim", dependencies: ["CCurl"], path: "Sources/CCurlShim"),
        .systemLibrary(
            name: "CSystemd", path: "Sources/CSystemd", pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]),

        // MARK: Foundation libraries
        .target(name: "TollgateCore", dependencies: [log]),
        .target(name: "TollgateRedis", dependencies: ["TollgateCore", "CHiredis", log]),
        .target(name: "TollgateHTTP", dependencies: ["TollgateCore", "CCurl", "CCurlShim", log]),
        .target(
            name: "TollgateHTTPServer",
            dependencies: [
                "TollgateCore", log, lifecycle, .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ] + nio),
        .target(name: "TollgateSystemd", dependencies: ["TollgateCore", "CSystemd", log]),
        .target(
            name: "TollgateIPC",
            dependencies: [
                "TollgateCore", log, .product(name: "NIOExtras", package: "swift-nio-extras"),
            ] + nio,
            resources: []),
        .target(
            name: "TollgateRuntime",
            dependencies: [
                "TollgateCore", "TollgateIPC", "TollgateRedis", "TollgateSystemd", "TollgateHTTPServer",
                log, lifecycle, .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ] + nio),

        // MARK: Domain libraries
        // Cluster-wide primitives in Redis: leader lock with fencing, GCRA rate limiter.
        .target(name: "TollgateCoordination", dependencies: ["TollgateCore", "TollgateRedis", log, lifecycle]),
        // The durable delayed-job store (Redis scripts on the server clock).
        .target(name: "TollgateJobs", dependencies: ["TollgateCore", "TollgateRedis", "TollgateIPC", log]),
        .target(name: "TollgateBroadcast", dependencies: ["TollgateCore", "TollgateRedis"]),
        // NocoDB API v2 client, every request through the shared limiter.
        .target(name: "TollgateNocoDB", dependencies: ["TollgateCore", "TollgateHTTP", "TollgateCoordination", log]),
        // Telegram Bot API client.
        .target(
            name: "TollgateTelegram",
            dependencies: ["TollgateCore", "TollgateHTTP", "TollgateRedis", "TollgateCoordination", log]),
        // Payment watching: watch list, batch/delta polling on the leader.
        .target(
            name: "TollgatePayments",
            dependencies: [
                "TollgateCore", "TollgateRedis", "TollgateCoordination", "TollgateJobs", "TollgateNocoDB", "TollgateIPC",
                "TollgateRuntime", "TollgateHTTP", log, lifecycle,
            ]),
        // Telegram and NocoDB simulators (sandbox, demo, tests, benchmarks).
        .target(
            name: "TollgateSimulators",
            dependencies: ["TollgateCore", "TollgateHTTPServer", "TollgateHTTP", log, lifecycle] + nio),

        // MARK: The services
        .target(
            name: "TollgateGateway",
            dependencies: [
                "TollgateRuntime", "TollgateIPC", "TollgateRedis", "TollgateHTTP", "TollgateHTTPServer",
                "TollgateCoordination", "TollgateTelegram", "TollgateNocoDB", "TollgateBroadcast", log, lifecycle,
                .product(name: "Yams", package: "Yams"), .product(name: "Metrics", package: "swift-metrics"),
            ]),
        .target(
            name: "TollgateScheduler",
            dependencies: [
                "TollgateRuntime", "TollgateIPC", "TollgateRedis", "TollgateCoordination", "TollgateJobs",
                "TollgatePayments", "TollgateNocoDB", log, lifecycle,
            ]),
        .target(
            name: "TollgateCLI",
            dependencies: [
                "TollgateCore", "TollgateIPC", "TollgateRedis", "TollgateHTTP", "TollgateRuntime",
                "TollgateGateway", "TollgateScheduler", "TollgateSimulators", "TollgateTestKit", log, lifecycle,
                "TollgatePayments", "TollgateNocoDB", "TollgateCoordination", "TollgateBroadcast",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ] + nio),
        .executableTarget(
            name: "bot-gateway",
            dependencies: ["TollgateGateway", "TollgateRuntime", "TollgateNocoDB", "TollgateCoordination", lifecycle]),
        .executableTarget(
            name: "poller-scheduler", dependencies: ["TollgateScheduler", "TollgatePayments", "TollgateRuntime", lifecycle]),
        .executableTarget(
            name: "tollgate",
            dependencies: ["TollgateCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

        // The fuzz harnesses (scripts/fuzz drives them with libFuzzer; FuzzTests runs their corpora).
        .target(
            name: "TollgateFuzzing",
            dependencies: [
                "TollgateCore", "TollgateIPC", "TollgateJobs", "TollgateTelegram", "TollgateNocoDB", "TollgateHTTP",
                "TollgateHTTPServer", "TollgateGateway", "TollgateRedis", "TollgateBroadcast", log,
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ] + nio),

        // MARK: Test support, shared by tests and benchmarks
        .target(name: "TollgateTestKit", dependencies: ["TollgateCore", "TollgateIPC", log]),
        // Test-only (not a product): a tiny socket-activated, sd_notify-speaking process that
        // SystemdTests run under the real systemd-socket-activate.
        .executableTarget(name: "tollgate-systemd-probe", dependencies: ["TollgateSystemd"]),
        // Test-only (not a product): takes slots from the Redis rate limiter in a loop and prints
        // their grant times, so CoordinationTests can run several real processes against one limit.
        .executableTarget(
            name: "tollgate-ratelimit-probe", dependencies: ["TollgateCoordination", "TollgateRedis", "TollgateCore", log]),

        // MARK: Tests
        .testTarget(name: "CoreTests", dependencies: ["TollgateCore"]),
        .testTarget(name: "RedisTests", dependencies: ["TollgateRedis", "TollgateTestKit"]),
        .testTarget(
            name: "HTTPTests", dependencies: ["TollgateHTTP", "TollgateHTTPServer", "TollgateTestKit", log, lifecycle]),
        .testTarget(name: "SystemdTests", dependencies: ["TollgateSystemd", "TollgateTestKit"]),
        .testTarget(
            name: "IPCTests",
            dependencies: [
                "TollgateIPC", "TollgateTestKit", lifecycle,
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ] + nio),
        .testTarget(
            name: "CoordinationTests", dependencies: ["TollgateCoordination", "TollgateRedis", "TollgateTestKit"]),
        .testTarget(name: "JobsTests", dependencies: ["TollgateJobs", "TollgateRedis", "TollgateTestKit"]),
        .testTarget(name: "BroadcastTests", dependencies: ["TollgateBroadcast", "TollgateRedis", "TollgateTestKit"]),
        .testTarget(
            name: "NocoDBTests",
            dependencies: ["TollgateNocoDB", "TollgateSimulators", "TollgateCoordination", "TollgateTestKit", lifecycle]),
        .testTarget(
            name: "TelegramTests",
            dependencies: ["TollgateTelegram", "TollgateSimulators", "TollgateTestKit", "TollgateHTTPServer", lifecycle]),
        .testTarget(
            name: "PaymentsTests",
            dependencies: [
                "TollgatePayments", "TollgateNocoDB", "TollgateSimulators", "TollgateJobs", "TollgateTestKit", lifecycle,
                "TollgateCoordination", "TollgateRedis", "TollgateIPC", "TollgateHTTP", "TollgateRuntime",
            ]),
        .testTarget(
            name: "SchedulerTests",
            dependencies: [
                "TollgateScheduler", "TollgateJobs", "TollgateIPC", "TollgateTestKit", "TollgateRedis", "TollgateCoordination",
                "TollgateCore", lifecycle,
            ] + nio),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "TollgateGateway", "TollgateTelegram", "TollgateSimulators", "TollgateIPC", "TollgateTestKit", "TollgateNocoDB",
                "TollgateCoordination", "TollgateRedis", "TollgateHTTP", "TollgateHTTPServer", "TollgateBroadcast", lifecycle,
            ] + nio),
        // Boots a real systemd (systemd-nspawn) with the installed units; run by scripts/system-test.
        .testTarget(
            name: "SystemTests",
            dependencies: [
                "TollgateIPC", "TollgateTestKit", "TollgateHTTP", "TollgateRuntime", "TollgateSimulators", lifecycle,
            ] + nio),
        .testTarget(name: "FuzzTests", dependencies: ["TollgateFuzzing", "TollgateTestKit"], resources: [.copy("Corpus")]),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "TollgateRuntime", "TollgateIPC", "TollgateTestKit", "TollgateRedis", "TollgateSystemd", "TollgateHTTP",
            ] + nio),
    ]
)

// The libFuzzer binary exists only for scripts/fuzz (TOLLGATE_FUZZ=1, built with
// -sanitize=fuzzer,address): it needs libFuzzer's driver, which an ordinary build does not link.
if Context.environment["TOLLGATE_FUZZ"] == "1" {
    package.products.append(.executable(name: "tollgate-fuzz", targets: ["tollgate-fuzz"]))
    package.targets += [
        .target(name: "CFuzzer", path: "Sources/CFuzzer"),
        .executableTarget(name: "tollgate-fuzz", dependencies: ["TollgateFuzzing", "CFuzzer"]),
    ]
}
