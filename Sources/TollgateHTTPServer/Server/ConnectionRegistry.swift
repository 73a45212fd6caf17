import NIOCore
import Synchronization

/// The open connections of a server, so that a graceful shutdown can reach each of them.
///
/// Quiescing hands the decision to NIO's `HTTPServerPipelineHandler`: an idle connection is
/// closed at once; one with a request in flight gets `Connection: close` on its response and is
/// closed after it. Each connection is quiesced at most once (the handler asserts that).
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var draining = false
    }

    private let state = Mutex(State())

    /// Adds `channel`; when draining has begun, quiesces it at once instead.
    func register(_ channel: any Channel) {
        let draining = state.withLock { state in
            if !state.draining { state.channels[ObjectIdentifier(channel)] = channel }
            return state.draining
        }
        if draining { Self.quiesce(channel) }
    }

    func unregister(_ channel: any Channel) {
        _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Starts draining: quiesces every registered connection and every later one.
    func drain() {
        let channels = state.withLock { state -> [any Channel] in
            guard !state.draining else { return [] }
            state.draining = true
            defer { state.channels.removeAll() }
            return Array(state.channels.values)
        }
        for channel in channels { Self.quiesce(channel) }
    }

    var isDraining: Bool { state.withLock { $0.draining } }

    private static func quiesce(_ channel: any Channel) {
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    }
}
