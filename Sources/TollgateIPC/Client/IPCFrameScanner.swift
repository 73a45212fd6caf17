/// Finds a top-level string member of a JSON object without parsing the whole document.
///
/// The client uses it to route a reply to its caller by `id` on the event loop; the caller then
/// decodes the full reply once. It tracks string and nesting state, so an `"id"` key inside the
/// body or inside a string never matches. Escapes inside the value are not expected (ids are
/// `[A-Za-z0-9._:-]`); a value with escapes yields `nil`.
enum IPCFrameScanner {
    static func topLevelString(_ key: String, in bytes: some Collection<UInt8>) -> String? {
        let keyBytes = Array(key.utf8)
        var depth = 0
        var inString = false
        var escaped = false
        var stringStart: [UInt8].Index = 0
        let array = Array(bytes)
        var i = 0
        var lastTopLevelString: ArraySlice<UInt8>? = nil
        while i < array.count {
            let b = array[i]
            if inString {
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 1 { lastTopLevelString = array[stringStart..<i] }
                }
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                inString = true
                stringStart = i + 1
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ":") where depth == 1:
                if let k = lastTopLevelString, k.elementsEqual(keyBytes) {
                    // Skip white space, expect a string value without escapes.
                    var j = i + 1
                    while j < array.count, array[j] == 0x20 || array[j] == 0x0A || array[j] == 0x0D || array[j] == 0x09 { j += 1 }
                    guard j < array.count, array[j] == UInt8(ascii: "\"") else { return nil }
                    var k2 = j + 1
                    while k2 < array.count, array[k2] != UInt8(ascii: "\"") {
                        if array[k2] == UInt8(ascii: "\\") { return nil }
                        k2 += 1
                    }
                    guard k2 < array.count else { return nil }
                    return String(decoding: array[(j + 1)..<k2], as: UTF8.self)
                }
            default: break
            }
            i += 1
        }
        return nil
    }
}
