import Synchronization
import Testing
@testable import TollgateCore

@Suite struct DurationUnitsTests {
    @Test func wholeUnitsSaturateInsteadOfTrapping() {
        #expect(Duration.seconds(Int64.max).milliseconds == .max)
        #expect(Duration.seconds(Int64.max).microseconds == .max)
        #expect(Duration.seconds(Int64.min).microseconds == .min)
        #expect(Duration.seconds(9_300_000_000_000).microseconds == .max)
        #expect(Duration.milliseconds(1500).microseconds == 1_500_000)
        #expect(Duration.microseconds(-2500).milliseconds == -2)
    }

    @Test func saturatingArithmetic() {
        #expect(Int64.min.saturatingMinus(1) == .min)
        #expect(Int64(5).saturatingMinus(Int64.min) == .max)
        #expect(Int64.max.saturatingPlus(1) == .max)
        #expect(Int.max.saturatingPlus(7) == .max)
        #expect(Int64(7).saturatingMinus(2) == 5)
    }

    @Test func checkedSecondsRefusesWhatNoCallerMeans() {
        let limit = Duration.seconds(3600)
        #expect(Duration.checkedSeconds(.nan, limit: limit) == nil)
        #expect(Duration.checkedSeconds(.infinity, limit: limit) == nil)
        #expect(Duration.checkedSeconds(1e20, limit: limit) == nil)
        #expect(Duration.checkedSeconds(-3, limit: limit) == .zero)
        #expect(Duration.checkedSeconds(1.5, limit: limit) == .milliseconds(1500))
    }
}

@Suite struct DurationParserTests {
    @Test func readsTheDocumentedForms() {
        #expect(DurationParser.parse("250ms") == .milliseconds(250))
        #expect(DurationParser.parse("1.5s") == .milliseconds(1500))
        #expect(DurationParser.parse("2m") == .seconds(120))
        #expect(DurationParser.parse("48h") == .seconds(48 * 3600))
        #expect(DurationParser.parse("7d") == .seconds(7 * 86400))
        #expect(DurationParser.parse("30") == .seconds(30))
    }

    @Test(arguments: [
        "1e16", "1e308d", "0x1p70s", "inf", "nan", "-5s", "9223372036854775807ms", "1e20s", "5 s", ".", "1.2.3s", "",
        "101y", "36600000d",
    ])
    func refusesValuesNoSettingCouldMean(_ text: String) {
        #expect(DurationParser.parse(text) == nil)
    }

    @Test func theLongestAcceptedIsAHundredYears() {
        #expect(DurationParser.parse("36500d") == DurationParser.longest)
        #expect(DurationParser.parse("36501d") == nil)
    }

    @Test func configReaderReportsAnAbsurdDurationAsAProblem() {
        var reader = ConfigReader(ConfigSource(values: ["JOB_LEASE": "1e16"]))
        let lease = reader.duration("JOB_LEASE", default: .seconds(30))
        #expect(lease == .seconds(30))
        #expect(reader.problems.count == 1)
        #expect(reader.problems.first?.hasPrefix("JOB_LEASE: expected a duration") == true)
    }
}

@Suite struct PeerWaitTests {
    @Test func waitsAreBoundedAndSayWhenTheyWereChanged() {
        let cap = PeerWait(name: "X_MAX", max: .seconds(300))
        let huge = cap.bound(.seconds(Int64.max))
        #expect(huge.wait == .seconds(300))
        #expect(huge.wasClamped)
        let fine = cap.bound(.seconds(30))
        #expect(fine.wait == .seconds(30))
        #expect(!fine.wasClamped)
        let negative = cap.bound(.seconds(-1))
        #expect(negative.wait == .zero)
        #expect(negative.wasClamped)
    }
}

@Suite struct LogThrottleTests {
    @Test func logsOnceThenCountsWhatItHeldBack() {
        let throttle = LogThrottle(interval: .seconds(60))
        let t0 = ContinuousClock.now
        #expect(throttle.admit("a", now: t0) == 0)
        #expect(throttle.admit("a", now: t0 + .seconds(1)) == nil)
        #expect(throttle.admit("a", now: t0 + .seconds(2)) == nil)
        #expect(throttle.admit("b", now: t0 + .seconds(2)) == 0)
        #expect(throttle.admit("a", now: t0 + .seconds(61)) == 2)
        #expect(throttle.admit("a", now: t0 + .seconds(62)) == nil)
    }

    @Test func kindsChosenByAPeerCannotGrowTheTable() {
        let throttle = LogThrottle(interval: .seconds(60), capacity: 4)
        let t0 = ContinuousClock.now
        for i in 0..<100 { #expect(throttle.admit("kind-\(i)", now: t0 + .milliseconds(i)) == 0) }
        // The oldest were forgotten: kind-0 is new again, kind-99 is still remembered.
        #expect(throttle.admit("kind-99", now: t0 + .seconds(1)) == nil)
        #expect(throttle.admit("kind-0", now: t0 + .seconds(1)) == 0)
    }
}

@Suite struct SlicedSleepTests {
    @Test func aLongWaitReportsProgressAfterEachSlice() async throws {
        let beats = Atomic<Int>(0)
        try await SlicedSleep.withProgress({ beats.add(1, ordering: .relaxed) }) {
            try await SlicedSleep.sleep(for: .milliseconds(2500))
        }
        // Slices of at most 1 s, a beat after each: three on time, fewer if a loaded machine let a
        // slice overrun — never none.
        #expect((1...3).contains(beats.load(ordering: .relaxed)))
    }

    @Test func cancellationEndsALongWaitWithinASlice() async {
        let task = Task { try await SlicedSleep.sleep(for: .seconds(3600)) }
        try? await Task.sleep(for: .milliseconds(50))
        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
    }
}
