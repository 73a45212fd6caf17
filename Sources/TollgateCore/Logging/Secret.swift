/// A value that must never be printed: a bot token, an API token, a password.
///
/// `description`, `debugDescription` and string interpolation all yield `<redacted>`; the raw
/// value is reachable only through ``exposedValue`` at the single place that sends it on the wire.
/// Creating a `Secret` registers it with ``Redactor/shared`` so that any log line which still
/// manages to contain it (inside a URL, an error text from a C library) is scrubbed.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String

    public init(_ value: String) {
        self.value = value
        Redactor.shared.register(value)
    }

    /// The raw value. Use only where it goes on the wire (a header, a URL path).
    public var exposedValue: String { value }

    public var isEmpty: Bool { value.isEmpty }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
