/// Whole units of a `Duration`, saturating: a duration from a peer (a `Retry-After` of 10^20
/// seconds) converts to `Int64.max` / `Int64.min` instead of trapping on overflow.
extension Duration {
    /// The duration as fractional seconds.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    /// The duration in whole milliseconds (rounded toward zero), saturating at the `Int64` bounds.
    public var milliseconds: Int64 { Self.whole(components, per: 1000, attoPerUnit: 1_000_000_000_000_000) }

    /// The duration in whole microseconds (rounded toward zero), saturating at the `Int64` bounds.
    public var microseconds: Int64 { Self.whole(components, per: 1_000_000, attoPerUnit: 1_000_000_000_000) }

    private static func whole(_ c: (seconds: Int64, attoseconds: Int64), per: Int64, attoPerUnit: Int64) -> Int64 {
        let (scaled, overflow) = c.seconds.multipliedReportingOverflow(by: per)
        if overflow { return c.seconds < 0 ? .min : .max }
        let (sum, overflow2) = scaled.addingReportingOverflow(c.attoseconds / attoPerUnit)
        if overflow2 { return c.seconds < 0 ? .min : .max }
        return sum
    }

    /// `self` limited to `range`.
    public func clamped(to range: ClosedRange<Duration>) -> Duration {
        min(max(self, range.lowerBound), range.upperBound)
    }

    /// A duration of `seconds` when it is a finite number of at most `limit`; `nil` otherwise
    /// (NaN, infinity, or a value no caller could mean). Negative values become zero.
    public static func checkedSeconds(_ seconds: Double, limit: Duration) -> Duration? {
        guard seconds.isFinite else { return nil }
        guard seconds > 0 else { return .zero }
        guard seconds <= limit.seconds else { return nil }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}

extension FixedWidthInteger where Self: SignedInteger {
    /// `self - other`, saturating at the type's bounds (times and counts read from Redis or a peer).
    public func saturatingMinus(_ other: Self) -> Self {
        let (d, o) = subtractingReportingOverflow(other)
        return o ? (other < 0 ? .max : .min) : d
    }

    /// `self + other`, saturating at the type's bounds.
    public func saturatingPlus(_ other: Self) -> Self {
        let (d, o) = addingReportingOverflow(other)
        return o ? (other > 0 ? .max : .min) : d
    }

    /// `self * other`, saturating at the type's bounds.
    public func saturatingTimes(_ other: Self) -> Self {
        let (d, o) = multipliedReportingOverflow(by: other)
        return o ? ((self < 0) != (other < 0) ? .min : .max) : d
    }
}
