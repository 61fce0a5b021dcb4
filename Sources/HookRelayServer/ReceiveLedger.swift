import HookRelayCore

#if canImport(Glibc)
import Glibc
#endif

/// What `hookrelay receive` shares between its connections: the answers owed to `--fail-first`,
/// the recent webhook-ids (so each event is written once) and standard output, written one whole
/// line at a time and flushed per event.
actor ReceiveLedger {
    enum Outcome: Equatable {
        /// Written to the output.
        case written
        /// Its webhook-id was written before: acknowledged again, not written twice.
        case repeated
        /// One of the first `--fail-first` verified requests (its number, from 1): answered 503.
        case failedOnPurpose(Int)
        /// The configured status is not 2xx: not accepted, so not written.
        case refused
        /// Standard output is closed or failing: answered 503, and the receiver stops.
        case outputUnavailable
    }

    private let failFirst: Int
    private let writes: Bool
    private let capacity: Int
    private var failed = 0
    private var seen: Set<String> = []
    /// The remembered ids in the order written, a ring: `oldest` is overwritten next once full.
    private var order: [String] = []
    private var oldest = 0
    private let output: OutputBuffer
    /// The first output failure; a closed pipe (`| head`) is not one.
    private(set) var failure: OutputError?
    private var stopped = false
    private let stop: AsyncStream<Void>.Continuation

    /// `stop` is told once when standard output can take no more.
    init(configuration: ReceiveConfiguration, outputDescriptor: Int32, stop: AsyncStream<Void>.Continuation) {
        failFirst = configuration.failFirst
        writes = (200...299).contains(configuration.status)
        capacity = max(1, configuration.rememberedIDs)
        output = OutputBuffer(fd: outputDescriptor, flushEachRecord: true)
        self.stop = stop
    }

    /// Decides about one verified, well-formed request and writes `line` (without its newline) if
    /// it is due; `id` is its webhook-id, nil when it has none (then it is always written).
    func accept(id: String?, line: [UInt8]) -> Outcome {
        if stopped { return .outputUnavailable }
        if failed < failFirst {
            failed += 1
            return .failedOnPurpose(failed)
        }
        guard writes else { return .refused }
        if let id, seen.contains(id) { return .repeated }
        do {
            try line.withUnsafeBytes { try output.write($0) }
            try output.write(byte: UInt8(ascii: "\n"))
            try output.flush()
        } catch OutputError.brokenPipe {
            return stopWriting()
        } catch {
            failure = (error as? OutputError) ?? .writeFailed(path: "standard output", errno: EIO)
            return stopWriting()
        }
        if let id { remember(id) }
        return .written
    }

    private func stopWriting() -> Outcome {
        stopped = true
        stop.yield()
        return .outputUnavailable
    }

    private func remember(_ id: String) {
        if order.count < capacity {
            order.append(id)
        } else {
            seen.remove(order[oldest])
            order[oldest] = id
            oldest = (oldest + 1) % capacity
        }
        seen.insert(id)
    }
}
