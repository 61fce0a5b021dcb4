import HookRelayCore
import HookRelayStore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes one NDJSON result line per finished (event, URL) pair, keeps the counts, and shows
/// progress on a terminal or a summary line at the end.
final class ResultWriter: Sendable {
    struct Counts {
        var delivered = 0
        var failed = 0
        var pending = 0
        var invalid = 0
        /// Events the payload template could not render into valid JSON (not sent).
        var unrendered = 0
        /// Deliveries failed because the endpoint is gone (410) or its address is not allowed.
        var unavailable = 0
        /// Deliveries settled without being sent (a duplicate, folded into a digest).
        var suppressed = 0
        var digested = 0
    }

    private struct Output: ~Copyable {
        var buffer: OutputBuffer
        var closed = false
        var lastFlush = ContinuousClock.now
        var lastProgress = ContinuousClock.now
    }

    let counts = Mutex(Counts())
    private let reported = Mutex<Set<String>>([])
    private let output: Mutex<Output>
    private let quiet: Bool
    private let progress: Bool
    private let diagnostics: Diagnostics
    private let started = ContinuousClock.now

    init(output: sending OutputBuffer, quiet: Bool, progress: Bool, diagnostics: Diagnostics) {
        self.output = Mutex(Output(buffer: output))
        self.quiet = quiet
        self.progress = progress && !quiet
        self.diagnostics = diagnostics
    }

    /// The result line of a delivery.
    static func line(_ state: DeliveryState) -> String {
        let status = state.lastHTTPStatus.map(String.init) ?? "null"
        let error = state.lastError.map(JSONString.quote) ?? "null"
        let latency = state.lastLatencyMilliseconds.map(String.init) ?? "null"
        let ref = state.ref.map { #","ref":\#($0)"# } ?? ""
        return #"{"webhook_id":\#(JSONString.quote(state.messageID)),"url":\#(JSONString.quote(state.target)),"status":"\#(state.status.rawValue)","attempts":\#(state.attempts),"http_status":\#(status),"error":\#(error),"latency_ms":\#(latency)\#(ref)}"#
            + "\n"
    }

    /// Deliveries attempted and waiting for a retry, for the progress line.
    func noteRetrying(_ count: Int) {
        counts.withLock { $0.pending = count }
    }

    func report(_ state: DeliveryState) {
        let snapshot = counts.withLock { counts in
            switch state.status {
            case .delivered: counts.delivered += 1
            case .failed: counts.failed += 1
            case .suppressed: counts.suppressed += 1
            case .digested: counts.digested += 1
            case .pending, .skipped: break
            }
            return counts
        }
        output.withLock { output in
            let now = ContinuousClock.now
            if !quiet, !output.closed {
                do {
                    try output.buffer.write(Self.line(state))
                    try output.buffer.endRecord()
                    if now - output.lastFlush > .milliseconds(100) {
                        try output.buffer.flush()
                        output.lastFlush = now
                    }
                } catch {
                    // The reader of the results went away; delivery goes on regardless.
                    output.closed = true
                }
            }
            if progress, now - output.lastProgress > .milliseconds(200) {
                output.lastProgress = now
                diagnostics.write("\r" + summary(snapshot) + "\u{1B}[K")
            }
        }
    }

    /// Reports `message` on standard error the first time `key` is seen.
    func reportOnce(key: String, _ message: String) {
        if reported.withLock({ $0.insert(key).inserted }) { diagnostics.report(message) }
    }

    private func summary(_ counts: Counts) -> String {
        let seconds = max((ContinuousClock.now - started).seconds, 0.001)
        let done = counts.delivered + counts.failed
        var text = "hookrelay: delivered \(counts.delivered), failed \(counts.failed), pending \(counts.pending)"
        if counts.invalid > 0 { text += ", invalid \(counts.invalid)" }
        if counts.unrendered > 0 { text += ", not rendered \(counts.unrendered)" }
        if counts.suppressed > 0 { text += ", suppressed \(counts.suppressed)" }
        if counts.digested > 0 { text += ", digested \(counts.digested)" }
        return text + String(format: " in %.1fs (%.0f/s)", seconds, Double(done) / seconds)
    }

    /// Flushes the results and prints the summary (ending the progress line on a terminal).
    /// `pendingTotal` counts every pending delivery in the store, attempted in this run or not.
    func finish(pendingTotal: Int) {
        let snapshot = counts.withLock { counts in
            counts.pending = pendingTotal
            return counts
        }
        output.withLock { output in
            if !output.closed { try? output.buffer.flush() }
        }
        guard !quiet else { return }
        if progress { diagnostics.write("\r" + summary(snapshot) + "\u{1B}[K\n") } else { diagnostics.write(summary(snapshot) + "\n") }
    }
}
