import Foundation
import HookRelayCore
import HookRelayStore
import HookRelayTemplates
import Synchronization

/// The `deliver` mode: reads events, stores each (event, URL) pair, and sends them with
/// retries, optionally through a durable SQLite spool.
public struct DeliverRun: Sendable {
    public enum Mode: Sendable, Equatable {
        /// Read events from the input and deliver them (and whatever the spool holds that is due).
        case send
        /// Read nothing; deliver what the spool holds that is due.
        case drain
        /// Put failed pairs back to pending, then drain.
        case retryFailed
    }

    public struct Configuration: Sendable {
        public var mode: Mode = .send
        /// Inputs, the invalid-record policy and the limits (`send` mode).
        public var records = RecordPipeline.Configuration()
        public var layout = EventLayout()
        public var urls: [String] = []
        /// What is sent for an event: its bytes, or a rendering of it.
        public var template: PayloadTemplate? = nil
        /// How to send to `urls` (and to a spool's URLs that have no settings of their own,
        /// spooled by an older hookrelay); a spool records it for each of `urls`.
        public var settings = TargetSettings()
        /// What the command line changes on the settings a spool recorded for its other URLs.
        public var patch = TargetSettings.Patch()
        /// Signing secrets (never recorded in the spool).
        public var secrets: [WebhookSecret] = []
        /// Where `${VAR}` in header values is read from.
        public var environment = ProcessInfo.processInfo.environment
        public var concurrency = 16
        /// The proxy and the client certificate and trust of this run (not recorded in a spool).
        public var proxy: EgressProxy?
        public var tls = TLSOptions()
        /// SQLite spool file; nil keeps deliveries in memory for this run only.
        public var spool: String?
        /// How long to stay for retries not yet due; nil stays until every pair is finished.
        public var wait: Duration?
        /// How long a claim holds a delivery; nil: ``defaultLease``.
        public var lease: Duration?
        /// With a spool: at the end of the run, delete what finished longer ago than this
        /// (RetentionStore); nil keeps everything.
        public var prune: Duration?
        /// `--digest`: the events below its bypass are gathered into one message per window
        /// (DeliverDigest.swift); nil sends each event.
        public var digest: DigestSettings?
        /// No result lines and no summary.
        public var quiet = false
        /// Show a progress line on standard error (it is a terminal).
        public var progress = false
        /// `--dedupe-window`: what is not spooled again (DeliverRun+Dedupe.swift); nil sends everything.
        public var dedupe: DeliverDedupe?

        public init() {}

        /// An attempt's longest time (timeout + connect timeout) plus 30 s.
        public static func defaultLease(_ settings: TargetSettings) -> Duration {
            longestAttempt(settings) + .seconds(30)
        }

        /// The longest an attempt with `settings` may take: connecting, then the answer.
        static func longestAttempt(_ settings: TargetSettings) -> Duration {
            .milliseconds(settings.timeoutMilliseconds + settings.connectTimeoutMilliseconds)
        }
    }

    public let configuration: Configuration
    let diagnostics: Diagnostics

    public init(configuration: Configuration, diagnostics: Diagnostics = Diagnostics()) {
        self.configuration = configuration
        self.diagnostics = diagnostics
        routes = TargetRoutes(configuration: configuration)
    }

    /// Deliveries kept in memory at once without a spool: the reader waits beyond this.
    static let memoryLimitFactor = 16


    /// Runs to the end and returns the exit status.
    public func run(output: sending OutputBuffer) async -> ExitStatus {
        let results = ResultWriter(output: output, quiet: configuration.quiet, progress: configuration.progress, diagnostics: diagnostics)
        defer { routes.shutdown() }
        do {
            return try await deliver(results: results)
        } catch OutputError.brokenPipe {
            return .success
        } catch {
            diagnostics.report("\(error)")
            return .ioError
        }
    }

    private func deliver(results: ResultWriter) async throws -> ExitStatus {
        let now = UnixTime.now()
        let store: any DeliveryQueue
        if let path = configuration.spool {
            let spool = try SQLiteSpool(path: path, durableWrites: false, checkpoints: configuration.mode != .send)
            try routes.load(spool: spool, urls: configuration.mode == .send ? configuration.urls : [], now: now, diagnostics: diagnostics)
            let released = try spool.recoverOrphans(now: now)
            if released > 0 { diagnostics.report("\(path): resending \(released) deliveries left in flight by a process that ended") }
            if configuration.mode == .retryFailed {
                let requeued = try spool.requeueFailed(now: now)
                diagnostics.report("\(path): \(requeued) failed deliveries queued again")
            }
            store = spool
        } else {
            store = MemoryStore()
        }
        let dispatcher = Dispatcher(
            store: store, claimBatch: min(1024, configuration.concurrency * 4),
            lease: configuration.lease ?? routes.longestLease,
            waitUntil: configuration.wait.map { now + $0.milliseconds },
            heldEndpoints: { routes.held },
            now: { UnixTime.now() },
            report: { results.report($0) },
            progress: { results.noteRetrying($0) },
            longestAttempt: routes.longestAttempt)
        let reader = ReaderOutcome()
        // The store thread's task returns the deliveries left pending; the others return none.
        let pending = try await withThrowingTaskGroup(of: [DeliveryState].self) { group in
            group.addTask { try await dispatcher.run() }
            if configuration.mode == .send {
                group.addTask {
                    let status = await readOnThread(dispatcher: dispatcher, results: results)
                    reader.status.withLock { $0 = status }
                    dispatcher.inputFinished()
                    return []
                }
            } else {
                dispatcher.inputFinished()
            }
            for _ in 0..<configuration.concurrency {
                group.addTask(executorPreference: HTTPSender.taskExecutor) {
                    while let job = await dispatcher.next() {
                        let (outcome, gone) = await attempt(job, dispatcher: dispatcher, results: results)
                        dispatcher.finish(outcome, targetGone: gone)
                    }
                    return []
                }
            }
            var pending: [DeliveryState] = []
            for try await states in group { pending += states }
            return pending
        }
        for state in pending { results.report(state) }
        results.finish(pendingTotal: pending.count)
        if let path = configuration.spool, let age = configuration.prune { try prune(path, olderThan: age) }

        var status = reader.status.withLock { $0 }
        let counts = results.counts.withLock { $0 }
        if counts.failed + counts.pending > 0 { status = max(status, .temporaryFailure) }
        // A receiver that is gone, or an address that is not allowed: running again cannot help.
        if counts.unavailable > 0 { status = max(status, .unavailable) }
        return status
    }

    /// Deletes from the spool what finished longer ago than `age`, batch by batch with a pause
    /// for the other processes that write to it; says what went unless quiet.
    private func prune(_ path: String, olderThan age: Duration) throws {
        // A connection of its own: the dispatcher's went with it.
        let spool = try SQLiteSpool(path: path, durableWrites: false)
        let deleted = try spool.pruneAll(before: UnixTime.now() - age.milliseconds, between: SQLiteSpool.pauseBetweenBatches)
        guard !configuration.quiet, deleted.total > 0 else { return }
        diagnostics.report("""
            \(path): pruned \(deleted.events) events, \(deleted.deliveries) deliveries and \(deleted.attempts) \
            attempts finished more than \(age.shortDescription) ago
            """)
    }

    /// What the reader thread ended with.
    private final class ReaderOutcome: Sendable {
        let status = Mutex(ExitStatus.success)
    }

    private let routes: TargetRoutes

    /// One attempt of `job`, and where it leaves the delivery.
    private func attempt(_ job: ClaimedDelivery, dispatcher: Dispatcher, results: ResultWriter) async -> (DeliveryOutcome, gone: Bool) {
        let ownURL = routes.isOwn(job.target)
        // What is not sent never follows a retry schedule, so any policy's will do.
        let unsent = Attempt(policy: OutcomePolicy(retry: RetryPolicy()))
        /// Not sent: failed, or for a URL another run spooled, kept pending for a later run (what
        /// this run may not send, the run that spooled it asked for: a drain's refusal fails nothing).
        func notSent(_ error: String, holding: Bool) -> (DeliveryOutcome, Bool) {
            results.counts.withLock { $0.unavailable += 1 }
            guard holding else { return (unsent.notSent(job, .refused, error: error), false) }
            if routes.hold(job.target) {
                diagnostics.report("\(job.target): \(error); its deliveries stay pending in the spool (exit status 69)")
            }
            return (unsent.notSent(job, .held, error: "held back: " + error), false)
        }
        if dispatcher.isGone(job.target) {
            return notSent("the endpoint answered 410 Gone earlier in this run", holding: false)
        }
        let route: TargetRoute
        do {
            route = try routes.route(for: job.target, configuration: configuration)
        } catch {
            return notSent(error.description, holding: !ownURL)
        }
        let (outcome, gone, result) = await Attempt(policy: OutcomePolicy(retry: route.retry)).run(
            job, to: route.endpoint, signer: route.signer, headers: route.headers, sender: route.sender)
        let verdict = result.verdict
        if verdict == .permanent {
            if !ownURL { return notSent(result.error ?? "not sent", holding: true) }
            // The address is not allowed: say so once per URL, not once per event.
            if let error = result.error { results.reportOnce(key: job.target, "\(job.target): \(error)") }
        }
        if verdict == .gone || verdict == .permanent {
            results.counts.withLock { $0.unavailable += 1 }
        }
        return (outcome, gone)
    }

    /// Reads the input on a thread of its own (reads block), appending batches to the store.
    private func readOnThread(dispatcher: Dispatcher, results: ResultWriter) async -> ExitStatus {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: read(dispatcher: dispatcher, results: results))
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func read(dispatcher: Dispatcher, results: ResultWriter) -> ExitStatus {
        let append: ([NewMessage], [SpooledDedupe]) throws -> Void
        var ledger: (any SpoolDedupeLedger)?
        var keeper: DeliverDigest.Keeper?
        let window = configuration.dedupe?.window ?? 0
        if let path = configuration.spool {
            let spool: SQLiteSpool
            do {
                spool = try SQLiteSpool(path: path, durableWrites: true)
            } catch {
                diagnostics.report("\(error)")
                return .ioError
            }
            if configuration.dedupe != nil { ledger = spool }
            keeper = { [urls = configuration.urls] messageID, body, due in
                let kept = try spool.keepOpenDigest(messageID: messageID, body: body, targets: urls, due: due, now: UnixTime.now())
                dispatcher.inputArrived()
                return kept
            }
            append = { messages, entries in
                let now = UnixTime.now()
                _ = try entries.isEmpty ? spool.append(messages, now: now) : spool.append(messages, recording: entries, window: window, now: now)
                dispatcher.inputArrived()
            }
        } else {
            let limit = max(1024, configuration.concurrency * Self.memoryLimitFactor)
            let memory = configuration.dedupe.map { _ in MemoryDedupeLedger() }
            ledger = memory
            // Backpressure: without a spool, unsent events wait in the input, not in memory.
            append = { messages, entries in
                memory?.recordSpooled(entries, window: window, now: UnixTime.now())
                dispatcher.append(messages, limit: limit)
            }
        }
        var sink = SpoolingSink(urls: configuration.urls, layout: configuration.layout, template: configuration.template, append: append)
        if let dedupe = configuration.dedupe, let ledger {
            sink.dedupe = (dedupe, ledger, { results.reportSuppressed(messageID: $0, url: $1, first: $2) })
        }
        sink.digest = configuration.digest.map {
            DeliverDigest(
                settings: $0, urls: configuration.urls, template: configuration.template, layout: configuration.layout, keeper: keeper
            ) { results.report($0) }
        }
        let outcome = RecordPipeline(configuration: configuration.records, diagnostics: diagnostics)
            .run(&sink, selector: configuration.layout.selector)
        results.counts.withLock {
            $0.invalid = outcome.counts.invalid
            $0.unrendered = outcome.counts.rejected
        }
        return outcome.status
    }
}

/// Turns records into messages and appends them in batches (one transaction per batch).
struct SpoolingSink: RecordSink {
    let urls: [String]
    let layout: EventLayout
    let template: PayloadTemplate?
    let append: ([NewMessage], [SpooledDedupe]) throws -> Void
    var batch: [NewMessage] = []
    /// With `--dedupe-window`: the settings, the ledger and who hears of a suppressed pair; the
    /// key of each record of ``batch`` (nil: no fingerprint).
    var dedupe: (settings: DeliverDedupe, ledger: any SpoolDedupeLedger, suppressed: (String, String, SpooledEntry) -> Void)?
    var keys: [String?] = []
    /// `--digest`'s open digest (`deliver` refuses it with `--dedupe-window`).
    var digest: DeliverDigest?

    static let batchSize = 2048

    mutating func record(_ record: RecordView) throws {
        let id = MessageID.make(eventID: layout.id(of: record), body: record.bytes)
        var body = Array(record.bytes)
        if let digest, !digest.bypasses(body) {
            append(closed: try digest.fold(body, id: id))
            if batch.count >= Self.batchSize || digest.unkept >= Self.batchSize { try commit() }
            return
        }
        let key = dedupe.map { $0.settings.key(of: body) }
        if let template, !template.isRaw {
            do {
                body = try template.render(body, layout: layout)
            } catch {
                // Reported and counted, never sent malformed.
                throw RecordRejected("event \(id): \(error)")
            }
        }
        batch.append(NewMessage(messageID: id, body: body, targets: urls))
        if let key { keys.append(key) }
        if batch.count >= Self.batchSize { try commit() }
    }

    /// A digest the input closed joins the batch, with no de-duplication key.
    private mutating func append(closed: NewMessage?) {
        guard let closed else { return }
        batch.append(closed)
        if dedupe != nil { keys.append(nil) }
    }

    mutating func commit() throws {
        try digest?.keep()
        guard !batch.isEmpty else { return }
        if let dedupe {
            let (messages, entries) = try dedupe.settings.admit(
                batch, keys: keys, ledger: dedupe.ledger, now: UnixTime.now(), suppressed: dedupe.suppressed)
            try append(messages, entries)
            keys.removeAll(keepingCapacity: true)
        } else {
            try append(batch, [])
        }
        batch.removeAll(keepingCapacity: true)
    }

    /// A pause in the input: what was read so far (and a digest whose window ended) is
    /// committed and can be sent.
    mutating func inputIdle() throws {
        append(closed: try digest?.close(force: false))
        try commit()
    }

    /// The end, or a stop at an invalid record: what was read before it, and the open digest,
    /// are committed and sent.
    mutating func finish(complete: Bool) throws {
        append(closed: try digest?.close(force: true))
        try commit()
    }
}
