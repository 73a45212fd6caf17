import Foundation
import TollgateIPC
import TollgateJobs

/// The project's JSON readers against Foundation's: where both accept a text they read the same
/// value, and what the IPC codec writes it reads back unchanged. (Foundation is not the judge of
/// what is JSON: it refuses some valid RFC 8259 texts — `[0e1]`, found by this harness — so a text
/// only the codec accepts is not a finding by itself.)
enum JSONHarness {
    static func run(_ data: [UInt8]) {
        let ours = try? IPCCoding.decode(JSONValue.self, from: data)
        if let ours {
            if let theirs = try? JSONDecoder().decode(JSONValue.self, from: Data(data)) {
                precondition(same(ours, theirs), "the IPC codec and Foundation read different values")
            }
            // What we write, we read back the same.
            if let again = try? IPCCoding.encode(ours), let back = try? IPCCoding.decode(JSONValue.self, from: again) {
                precondition(same(back, ours), "a value changed through encode and decode")
            }
        }
        // The reader of payloads stored in Redis.
        if let text = String(validating: data, as: UTF8.self) {
            // It reads exactly the JSON objects the codec reads, to the same value (it is a faster
            // path, not a more lenient one); anything else is `[:]`.
            let payload = JobStore.decodePayload(text)
            if case .object(let object)? = ours {
                precondition(same(.object(payload), .object(object)), "the payload reader and the codec differ")
            } else {
                precondition(payload.isEmpty, "the payload reader accepted what the codec refuses")
            }
        }
    }

    /// Equal, with numbers compared as doubles (both readers keep numbers as `Double`).
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { same(value, $0) } ?? false }
        default: return false
        }
    }
}
