import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Finds the package's built executables (`bot-gateway`, `tollgate-systemd-probe`, ...) for tests
/// that run them as real processes.
///
/// SwiftPM puts executables and the test bundle in the same directory (`.build/debug/`), so the
/// directory of the running test binary is searched first; `TOLLGATE_BIN_DIR` overrides it (e.g. for
/// release builds or binaries built with `--static-swift-stdlib`). Tests need the executables
/// built: run `swift build` before `swift test`.
public enum TestBinaries {
    /// Why an executable could not be found.
    public struct Missing: Error, CustomStringConvertible {
        /// The executable asked for.
        public let name: String
        /// Directories searched, in order.
        public let searched: [String]
        public var description: String {
            "executable '\(name)' not found in \(searched.joined(separator: ", ")); "
                + "build it first (`swift build`, or `swift build --product \(name)`) or set TOLLGATE_BIN_DIR"
        }
    }

    /// The absolute path of the built executable `name`.
    /// - Throws: ``Missing`` naming the directories searched.
    public static func path(of name: String) throws -> String {
        let directories = searchDirectories()
        for directory in directories {
            let candidate = directory + "/" + name
            var info = stat()
            if stat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        throw Missing(name: name, searched: directories)
    }

    /// `TOLLGATE_BIN_DIR`, then the directory of the running test binary, then of the test bundle.
    public static func searchDirectories() -> [String] {
        var result: [String] = []
        if let override = ProcessInfo.processInfo.environment["TOLLGATE_BIN_DIR"], !override.isEmpty {
            result.append(override)
        }
        // On Linux the test runner is `.build/<config>/<package>PackageTests.xctest`, an executable.
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            result.append((executable as NSString).deletingLastPathComponent)
        }
        for bundle in [Bundle.main] + Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            result.append((bundle.bundlePath as NSString).deletingLastPathComponent)
        }
        let main = Bundle.main.bundlePath
        if !main.hasSuffix(".xctest") { result.append(main) }
        var seen = Set<String>()
        return result.filter { seen.insert($0).inserted }
    }
}
