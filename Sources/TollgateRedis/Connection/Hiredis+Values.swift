import CHiredis

#if canImport(Glibc)
    import Glibc
#endif

extension RedisValue {
    /// Converts a hiredis reply tree into Swift values. The caller still owns and frees `reply`.
    static func converting(_ reply: UnsafePointer<redisReply>) throws(RedisError) -> RedisValue {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            return .bulk(Self.bytes(node.str, node.len))
        case REDIS_REPLY_STATUS:
            return .simpleString(String(decoding: Self.bytes(node.str, node.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: Self.bytes(node.str, node.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(node.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var elements: [RedisValue] = []
            elements.reserveCapacity(node.elements)
            for index in 0..<node.elements {
                guard let child = node.element[index] else {
                    throw RedisError(.protocolError, "array reply has a missing element")
                }
                elements.append(try converting(child))
            }
            return .array(elements)
        default:
            throw RedisError(.protocolError, "unknown reply type \(node.type)")
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

/// Lays out a command's arguments in one buffer and hands hiredis the `argv`/`argvlen` arrays,
/// so every argument goes with an explicit length (binary-safe, no format strings).
enum ArgumentVector {
    static func with<R>(
        _ arguments: [RedisArgument],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        var storage: [UInt8] = []
        storage.reserveCapacity(arguments.reduce(1) { $0 + $1.bytes.count })
        var offsets: [Int] = []
        var lengths: [Int] = []
        offsets.reserveCapacity(arguments.count)
        lengths.reserveCapacity(arguments.count)
        for argument in arguments {
            offsets.append(storage.count)
            lengths.append(argument.bytes.count)
            storage.append(contentsOf: argument.bytes)
        }
        storage.append(0)  // never empty, so the base address exists even for "" arguments
        return storage.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var pointers: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    body(Int32(arguments.count), argv.baseAddress!, argvlen.baseAddress!)
                }
            }
        }
    }
}

extension timeval {
    /// A socket timeout; zero or negative means none (blocking forever), as for `SO_RCVTIMEO`.
    init(timeout: Duration?) {
        guard let timeout, timeout > .zero else {
            self.init(tv_sec: 0, tv_usec: 0)
            return
        }
        let (seconds, attoseconds) = timeout.components
        let micros = max(attoseconds / 1_000_000_000_000, seconds == 0 ? 1 : 0)
        self.init(tv_sec: Int(seconds), tv_usec: Int(micros))
    }
}

/// Per-thread signal setup for threads that write to Redis sockets.
enum ThreadSignals {
    /// hiredis writes with `write(2)`, which raises SIGPIPE when the server has gone; the default
    /// action would kill the process. Blocking SIGPIPE on the calling (dedicated) thread turns it
    /// into an `EPIPE` error without changing the process-wide disposition.
    static func blockBrokenPipe() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }
}
