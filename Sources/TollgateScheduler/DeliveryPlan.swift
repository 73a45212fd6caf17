import TollgateIPC
import TollgateJobs

/// How one claimed batch goes to the gateway, as a pure value: frames in claim order, each within
/// `maxFrameBytes` (measured by ``Delivery/encodedSizeBound``, with room for the envelope) and
/// ``Deliver/maxBatch`` deliveries; a job with earlier dropped deliveries (``ClaimedJob/drops``) in
/// a frame of its own, so that a job that brings the gateway down is found out and charged alone;
/// a job that cannot fit any frame in ``oversized`` (it can never be delivered).
struct DeliveryPlan: Sendable, Equatable {
    var frames: [[ClaimedJob]] = []
    var oversized: [ClaimedJob] = []

    /// Bytes kept free in every frame for the envelope and the array around the deliveries.
    static let envelopeBytes = 512

    init(_ jobs: [ClaimedJob], maxFrameBytes: Int) {
        let budget = max(1, maxFrameBytes - Self.envelopeBytes)
        var current: [ClaimedJob] = []
        var size = 0
        func flush() {
            if !current.isEmpty { frames.append(current) }
            current = []
            size = 0
        }
        for job in jobs {
            let bound = job.delivery.encodedSizeBound
            guard bound <= budget else {
                oversized.append(job)
                continue
            }
            if job.drops > 0 {
                flush()
                frames.append([job])
                continue
            }
            if size.saturatingPlus(bound + 1) > budget || current.count >= Deliver.maxBatch { flush() }
            current.append(job)
            size = size.saturatingPlus(bound + 1)
        }
        flush()
    }
}
