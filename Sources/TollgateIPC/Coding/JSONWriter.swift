#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The output of one encoding: compact JSON written straight into a byte buffer.
///
/// Values are written in the order they are encoded. An object's members are recorded as they
/// are written; when the object closes, they are put into sorted key order (by UTF-8 bytes, as
/// Foundation's `.sortedKeys` does) with one copy of the object's bytes.
///
/// Containers follow a stack discipline: the innermost open container is the one being written.
/// Each value position is a *slot*; an encoder belongs to one slot and may open one container in
/// it. A write to an outer container closes the containers above it. Anything the stack cannot
/// express — writing to a container that was already closed, a key encoded twice, nesting deeper
/// than Foundation allows — sets ``needsFallback``, and the caller encodes the value again with
/// Foundation's `JSONEncoder`, which then decides (so such cases behave exactly as before).
///
/// One writer serves one encoding on one thread, and no method touches its state while another
/// one holds it, so its properties skip the runtime's exclusivity checks (which cost more than
/// the writing itself).
final class JSONWriter {
    /// Thrown through user code when the stack discipline breaks; caught by the top level.
    struct Fallback: Error {}

    /// Foundation's `JSONEncoder` refuses more levels of nesting than this.
    static let maxDepth = 511

    @exclusivity(unchecked) var bytes: JSONOutput
    @exclusivity(unchecked) var needsFallback = false
    /// The slot waiting for its value (0: none).
    @exclusivity(unchecked) var pendingSlot = 0
    @exclusivity(unchecked) private var lastSlot = 0
    @exclusivity(unchecked) private var frames: [Frame] = []
    @exclusivity(unchecked) private var members: [Member] = []
    /// Keys whose JSON text differs from their UTF-8 (they needed escapes), by `Member.escapedKey`.
    @exclusivity(unchecked) private var escapedKeys: [String] = []
    @exclusivity(unchecked) private var scratch: [UInt8] = []

    private struct Frame {
        let slot: Int
        let isObject: Bool
        /// Offset of the opening bracket.
        let start: Int
        /// Index of this object's first member in `members`.
        let memberBase: Int
        var count = 0
        var sorted = true
        var unusualKeys = false
    }

    private struct Member {
        /// Offset of the key's opening quote.
        let start: Int
        /// Length of the key's text between the quotes.
        let keyLength: Int
        /// Index in `escapedKeys`, or -1 when the key's text is its UTF-8.
        let escapedKey: Int
    }

    init(capacity: Int = 256) {
        bytes = JSONOutput(capacity: capacity)
    }

    deinit { bytes.free() }

    var depth: Int { frames.count }

    /// Gives up on streaming: the caller re-encodes with Foundation.
    func fallBack() -> Fallback {
        needsFallback = true
        return Fallback()
    }

    // MARK: Slots

    /// A new value position; it expects its value next.
    func beginSlot() -> Int {
        lastSlot += 1
        pendingSlot = lastSlot
        return lastSlot
    }

    /// Claims `slot` for a single value written now; false if the slot was already filled.
    func claim(_ slot: Int) -> Bool {
        guard slot != 0, pendingSlot == slot else { return false }
        pendingSlot = 0
        return true
    }

    /// The value of `slot` is complete: closes its container and any above it. A slot that got no
    /// value becomes `{}` (Foundation's rendering of a value that encoded nothing).
    func endSlot(_ slot: Int) {
        if pendingSlot == slot {
            pendingSlot = 0
            bytes.append(UInt8(ascii: "{"), UInt8(ascii: "}"))
            return
        }
        if let k = frameIndex(slot) {
            while frames.count > k { closeTop() }
        }
    }

    private func frameIndex(_ slot: Int) -> Int? {
        if let last = frames.last, last.slot == slot { return frames.count - 1 }
        return frames.lastIndex { $0.slot == slot }
    }

    // MARK: Containers

    /// The container of `slot`: the one it already has, or a new one if the slot awaits its value.
    /// Returns the frame's slot id (0 when the request cannot be honoured; writes to it fall back).
    func openContainer(for slot: Int, isObject: Bool) -> Int {
        if let k = frameIndex(slot) {
            guard frames[k].isObject == isObject else {
                needsFallback = true
                return 0
            }
            fillPending()
            while frames.count > k + 1 { closeTop() }
            return slot
        }
        guard slot != 0, pendingSlot == slot, frames.count < Self.maxDepth else {
            needsFallback = true
            return 0
        }
        pendingSlot = 0
        frames.append(Frame(slot: slot, isObject: isObject, start: bytes.count, memberBase: members.count))
        bytes.append(isObject ? UInt8(ascii: "{") : UInt8(ascii: "["))
        return slot
    }

    /// Makes the container `frame` the innermost one, closing any above it.
    @inline(__always)
    private func activate(_ frame: Int) throws -> Int {
        if pendingSlot != 0 { fillPending() }
        if let last = frames.last, last.slot == frame, frame != 0 { return frames.count - 1 }
        guard frame != 0, let k = frames.lastIndex(where: { $0.slot == frame }) else { throw fallBack() }
        while frames.count > k + 1 { closeTop() }
        return k
    }

    /// A slot left without a value (an unused `superEncoder()`) is `{}`, as with Foundation.
    private func fillPending() {
        if pendingSlot != 0 { endSlot(pendingSlot) }
    }

    /// Starts the next element of the array container `frame`.
    func beginElement(in frame: Int) throws {
        let k = try activate(frame)
        if frames[k].count > 0 { bytes.append(UInt8(ascii: ",")) }
        frames[k].count += 1
    }

    /// The number of elements written so far to the array container `frame`.
    func count(of frame: Int) -> Int {
        frameIndex(frame).map { frames[$0].count } ?? 0
    }

    /// Writes `"key":` as the next member of the object container `frame`.
    func beginMember(in frame: Int, key: String) throws {
        let k = try activate(frame)
        if frames[k].count > 0 { bytes.append(UInt8(ascii: ",")) }
        let start = bytes.count
        let text = writeString(key)
        var escapedKey = -1
        if text.escaped {
            escapedKey = escapedKeys.count
            escapedKeys.append(key)
        }
        let member = Member(start: start, keyLength: bytes.count - start - 2, escapedKey: escapedKey)
        if frames[k].count > 0, frames[k].sorted, !precedes(members[members.count - 1], member) {
            frames[k].sorted = false
        }
        if text.nonASCII || text.escaped { frames[k].unusualKeys = true }
        members.append(member)
        frames[k].count += 1
        bytes.append(UInt8(ascii: ":"))
    }

    /// Closes every open container (the end of the top-level value).
    func finish() {
        fillPending()
        while !frames.isEmpty { closeTop() }
    }

    private func closeTop() {
        let frame = frames.removeLast()
        guard frame.isObject else {
            bytes.append(UInt8(ascii: "]"))
            return
        }
        let n = members.count - frame.memberBase
        if n > 1 && (!frame.sorted || frame.unusualKeys) { sortMembers(of: frame, n) }
        members.removeLast(n)
        if members.isEmpty { escapedKeys.removeAll(keepingCapacity: true) }
        bytes.append(UInt8(ascii: "}"))
    }

    // MARK: Sorting

    private func key(_ m: Member) -> String {
        m.escapedKey >= 0 ? escapedKeys[m.escapedKey] : String(decoding: bytes.slice((m.start + 1)..<(m.start + 1 + m.keyLength)), as: UTF8.self)
    }

    /// Whether `a`'s key sorts before `b`'s, by UTF-8 bytes.
    private func precedes(_ a: Member, _ b: Member) -> Bool {
        guard a.escapedKey < 0, b.escapedKey < 0 else { return JSONText.utf8Precedes(key(a), key(b)) }
        let n = min(a.keyLength, b.keyLength)
        let x = bytes.base + a.start + 1
        let y = bytes.base + b.start + 1
        for i in 0..<n where x[i] != y[i] { return x[i] < y[i] }
        return a.keyLength < b.keyLength
    }

    /// Rewrites the members of `frame` (the innermost, still open object) in key order. Keys
    /// that repeat — byte for byte, or by `String` equality, which Foundation's dictionary of
    /// members uses — fall back to Foundation.
    private func sortMembers(of frame: Frame, _ n: Int) {
        let base = frame.memberBase
        if frame.unusualKeys {
            var seen = Set<String>()
            for m in members[base...] where !seen.insert(key(m)).inserted {
                needsFallback = true
                return
            }
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { order in
            // Insertion sort: objects are small, and usually only a few members are out of place.
            for i in 0..<n {
                var k = i
                while k > 0 && precedes(members[base + i], members[base + order[k - 1]]) {
                    order[k] = order[k - 1]
                    k -= 1
                }
                order[k] = i
            }
            for k in 1..<n where !precedes(members[base + order[k - 1]], members[base + order[k]]) {
                needsFallback = true
                return
            }
            let regionStart = frame.start + 1
            let regionEnd = bytes.count
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: bytes.slice(regionStart..<regionEnd))
            scratch.withUnsafeBufferPointer { source in
                var w = bytes.base + regionStart
                for position in 0..<n {
                    let i = order[position]
                    if position > 0 {
                        w.pointee = UInt8(ascii: ",")
                        w += 1
                    }
                    let from = members[base + i].start - regionStart
                    let to = i + 1 < n ? members[base + i + 1].start - 1 - regionStart : regionEnd - regionStart
                    w.update(from: source.baseAddress! + from, count: to - from)
                    w += to - from
                }
            }
        }
    }
}
