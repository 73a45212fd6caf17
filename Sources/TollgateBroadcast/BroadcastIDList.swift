/// An audience file (`tollgate broadcast create --ids-file`): one Telegram user id per line;
/// blank lines and lines starting with `#` are skipped, surrounding spaces ignored, a repeated id
/// kept once (in the order first seen). Anything else is refused naming the line, before anything
/// is queued.
public enum BroadcastIDList {
    /// The most ids a file may hold.
    public static let maxIDs = 1_000_000
    /// The longest line read (an id has at most 19 digits; a longer line is junk, not a number).
    static let maxLine = 256

    public static func parse(_ bytes: [UInt8]) throws(BroadcastError) -> [Int64] {
        var ids: [Int64] = []
        var seen = Set<Int64>()
        var lineNumber = 0
        var start = 0
        while start <= bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            if start == bytes.count, end == start { break }
            var line = bytes[start..<end]
            while let last = line.last, last == 0x0D || last == 0x20 || last == 0x09 { line = line.dropLast() }
            while let first = line.first, first == 0x20 || first == 0x09 { line = line.dropFirst() }
            start = end + 1
            if line.isEmpty || line.first == 0x23 { continue }
            guard line.count <= maxLine else { throw BroadcastError(.invalid, "line \(lineNumber): not a user id (\(line.count) bytes)") }
            guard line.allSatisfy({ (0x30...0x39).contains($0) }), let id = Int64(String(decoding: line, as: UTF8.self)), id > 0 else {
                throw BroadcastError(.invalid, "line \(lineNumber): not a user id: '\(shown(line))'")
            }
            if seen.insert(id).inserted {
                guard ids.count < maxIDs else { throw BroadcastError(.invalid, "more than \(maxIDs) ids (line \(lineNumber))") }
                ids.append(id)
            }
        }
        return ids
    }

    /// A line as it may be shown: at most 40 printable ASCII characters.
    static func shown(_ line: ArraySlice<UInt8>) -> String {
        String(line.prefix(40).map { (0x20...0x7E).contains($0) ? Character(UnicodeScalar($0)) : "?" })
    }
}
