// The libFuzzer binary over TollgateFuzzing's harnesses (built only by scripts/fuzz, with
// TOLLGATE_FUZZ=1 and -sanitize=fuzzer,address). TOLLGATE_FUZZ_TARGET names the harness; every
// other argument is libFuzzer's. Whichever main the link keeps — libFuzzer's, which calls the two
// C entry points below, or this file's, which runs libFuzzer's driver — the harness is the same.
import CFuzzer
import TollgateFuzzing

#if canImport(Glibc)
    import Glibc
#endif

/// The harness TOLLGATE_FUZZ_TARGET names; exits with a usage line when it names none.
let target: FuzzTarget = {
    guard let raw = getenv("TOLLGATE_FUZZ_TARGET"), let chosen = FuzzTarget(rawValue: String(cString: raw)) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        let message = Array("tollgate-fuzz: set TOLLGATE_FUZZ_TARGET to one of \(names)\n".utf8)
        _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(2)
    }
    return chosen
}()

@_cdecl("LLVMFuzzerInitialize")
func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>?, _ argv: UnsafeMutableRawPointer?) -> Int32 {
    _ = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    target.run(size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzerTestOneInput(data, size) })
