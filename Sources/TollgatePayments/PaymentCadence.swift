import Foundation
import TollgateCore

/// Adaptive cadence: how soon a watch is checked again, by how long ago it was created.
///
/// A user who pressed "Get access" a minute ago is probably paying right now; one from yesterday
/// rarely is. Tiers are `(age below, interval)` pairs in increasing age, the last one for every
/// older watch: the default `2m:5s,15m:15s,2h:1m,24h:5m,*:15m`. (Seed 000 used 60 s for everyone.)
public struct PaymentCadence: Sendable, Hashable, CustomStringConvertible {
    public struct Tier: Sendable, Hashable {
        /// Watches younger than this (nil: all older ones).
        public var below: Duration?
        public var interval: Duration
        public init(below: Duration?, interval: Duration) {
            self.below = below
            self.interval = interval
        }
    }

    public let tiers: [Tier]

    /// - Precondition: at least one tier, ages increasing, the last with `below == nil`.
    public init(tiers: [Tier]) {
        precondition(!tiers.isEmpty && tiers.last?.below == nil)
        self.tiers = tiers
    }

    /// One interval for every watch.
    public static func fixed(_ interval: Duration) -> PaymentCadence {
        PaymentCadence(tiers: [Tier(below: nil, interval: interval)])
    }

    public static let `default` = PaymentCadence.parse("2m:5s,15m:15s,2h:1m,24h:5m,*:15m")!

    /// The interval for a watch of `age`.
    public func interval(forAge age: Duration) -> Duration {
        for tier in tiers {
            if let below = tier.below, age >= below { continue }
            return tier.interval
        }
        return tiers[tiers.count - 1].interval
    }

    /// Parses `2m:5s,15m:15s,*:15m`; nil when malformed (ages must increase, `*` last).
    public static func parse(_ text: String) -> PaymentCadence? {
        var tiers: [Tier] = []
        for piece in text.split(separator: ",") {
            let pair = piece.split(separator: ":")
            guard pair.count == 2, let interval = DurationParser.parse(String(pair[1])), interval > .zero else {
                return nil
            }
            let agePart = pair[0].trimmingCharacters(in: .whitespaces)
            if agePart == "*" {
                tiers.append(Tier(below: nil, interval: interval))
                continue
            }
            guard let age = DurationParser.parse(agePart), tiers.last?.below == nil ? tiers.isEmpty : true,
                tiers.last.map({ ($0.below ?? .zero) < age }) ?? true
            else { return nil }
            tiers.append(Tier(below: age, interval: interval))
        }
        guard let last = tiers.last, last.below == nil, tiers.dropLast().allSatisfy({ $0.below != nil }) else {
            return nil
        }
        return PaymentCadence(tiers: tiers)
    }

    public var description: String {
        tiers.map { "\($0.below.map(DurationParser.format) ?? "*"):\(DurationParser.format($0.interval))" }
            .joined(separator: ",")
    }
}
