import Testing

import TollgateTestKit

/// A crashed service's failure message: the reason and the crashed thread's frames, not the
/// register dump that ends the runtime's backtrace.
@Suite struct ServiceProcessLogTests {
    static let crashed = """
        2026-11-22T19:50:09.550Z INFO poller-scheduler: payment polling starts on this leader
        TollgateCore/Backoff.swift:17: Precondition failed

        *** Signal 4: Backtracing from 0x7f90aeaf9361... done ***

        *** Program crashed: Illegal instruction at 0x00007f90aeaf9361 ***

        Thread 0 "poller-scheduler":
        0  0x00007f90ad592301 sigsuspend + 65 in libc.so.6

        Thread 1 "oot.default-qos" crashed:

          0  0x00007f90aeaf9361 _assertionFailure(_:_:file:line:flags:) + 225 in libswiftCore.so
          1 [ra] 0x000056022367e47d Backoff.init(base:cap:multiplier:jitter:) + 412 in poller-scheduler
          2 [ra] 0x00005602237fa0ad PaymentPoller.lead(_:) + 268 in poller-scheduler

        Registers:

        rax 0x0000000000000000  0
        """ + String(repeating: "\n  00007fbdd56c3550  f7 39 00 00 00 00 00 00 90 8c 02 d0 bd 7f 00 00", count: 200)

    @Test func aCrashShowsItsReasonAndFramesNotTheRegisters() {
        let tail = ServiceProcess.tail(of: Self.crashed, limit: 2000)
        #expect(tail.contains("payment polling starts on this leader"))
        #expect(tail.contains("Backoff.swift:17: Precondition failed"))
        #expect(tail.contains("Thread 1 \"oot.default-qos\" crashed:"))
        #expect(tail.contains("PaymentPoller.lead"))
        #expect(!tail.contains("Registers:") && !tail.contains("f7 39 00"))
    }

    @Test func withoutACrashItIsTheEndOfTheLog() {
        let log = (1...500).map { "line \($0)" }.joined(separator: "\n")
        #expect(ServiceProcess.tail(of: log, limit: 100) == String(log.suffix(100)))
    }
}
