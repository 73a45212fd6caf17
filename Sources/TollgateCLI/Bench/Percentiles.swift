/// Order statistics over a sample, for benchmark reports.
public struct Percentiles: Sendable {
    public let sorted: [Double]

    public init(_ values: [Double]) { sorted = values.sorted() }

    /// Nearest-rank percentile, `p` in 0...100.
    public func value(_ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[Swift.min(Swift.max(rank - 1, 0), sorted.count - 1)]
    }

    public var p50: Double { value(50) }
    public var p99: Double { value(99) }
    public var max: Double { sorted.last ?? .nan }
    public var count: Int { sorted.count }
}

import TollgateIPC

extension Percentiles {
    /// `{"p50": .., "p99": .., "max": .., "n": ..}` rounded to `digits` decimals.
    public func json(digits: Int = 1) -> JSONValue {
        func r(_ v: Double) -> JSONValue {
            let f = pow(10, Double(digits))
            return .number((v * f).rounded() / f)
        }
        return .object(["p50": r(p50), "p99": r(p99), "max": r(max), "n": .number(Double(count))])
    }
}

import Foundation
