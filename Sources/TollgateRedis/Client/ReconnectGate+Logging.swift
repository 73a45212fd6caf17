import Logging
import TollgateCore

extension ReconnectGate.Event {
    /// One line per transition: info when up, warning when down, debug while still down.
    func log(to logger: Logger, address: String) {
        var metadata: Logger.Metadata = ["address": "\(address)"]
        switch self {
        case .up(let downFor):
            if let downFor {
                metadata["down_ms"] = "\(downFor.milliseconds)"
                logger.info("redis reconnected", metadata: metadata)
            } else {
                logger.info("redis connected", metadata: metadata)
            }
        case .down(let error, let retryIn):
            metadata["error"] = "\(error.message)"
            if let retryIn {
                metadata["retry_ms"] = "\(retryIn.milliseconds)"
                logger.warning("redis connect failed", metadata: metadata)
            } else {
                logger.warning("redis connection lost", metadata: metadata)
            }
        case .stillDown(let error, let retryIn):
            metadata["error"] = "\(error.message)"
            metadata["retry_ms"] = "\(retryIn.milliseconds)"
            logger.debug("redis still unreachable", metadata: metadata)
        }
    }
}
