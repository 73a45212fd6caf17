/// One file descriptor passed by systemd socket activation, with its `FileDescriptorName=`.
///
/// The service owns the descriptor once it has been received: it is close-on-exec and must be
/// closed (or handed to SwiftNIO) by the service. Socket paths behind these descriptors belong to
/// systemd: a service must never unlink them.
public struct ListenFD: Sendable, Hashable, CustomStringConvertible {
    /// The descriptor number (`SD_LISTEN_FDS_START` = 3 for the first one).
    public let fd: Int32
    /// The name from `LISTEN_FDNAMES`, or `"unknown"` when systemd passed no names.
    public let name: String

    /// Creates a value; normally obtained from ``SocketActivation/listenFDs(unsetEnvironment:)``.
    public init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
    }

    public var description: String { "\(name)@fd\(fd)" }
}
