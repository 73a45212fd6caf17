import TollgateGateway

/// The effect journal's records come back from Redis, where anything (an older or newer version,
/// an operator's `HSET`, a damaged value) may stand. Any text reads as a mark or an outcome; one
/// that reads as a known record reads back the same after being written again.
enum JournalHarness {
    static func run(_ data: [UInt8]) {
        // The first byte picks the field (the plan's record reads differently from a step's).
        let field = data.first.map { $0 & 1 == 0 ? "plan" : "s\($0 >> 1)" } ?? "s0"
        let text = String(decoding: data.dropFirst(), as: UTF8.self)
        let mark = StepMark(stored: text, field: field)
        if mark != .unreadable {
            precondition(StepMark(stored: mark.stored(at: 1), field: field) == mark, "a mark did not survive a rewrite")
        }
        let outcome = UnitOutcome(stored: text)
        if outcome != .unreadable {
            precondition(UnitOutcome(stored: outcome.stored(at: 1)) == outcome, "an outcome did not survive a rewrite")
        }
    }
}
