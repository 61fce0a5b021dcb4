/// What a mode that reads events does with each valid record: `filter` evaluates and writes it,
/// `deliver` spools it, `render` renders and prints it. Everything else (the inputs, invalid
/// records, counts and the exit status) is ``RecordPipeline``'s.
public protocol RecordSink {
    /// A valid record. Throw ``RecordRejected`` for one the mode cannot handle (a template that
    /// does not render): the pipeline reports it, counts it and goes on; the run ends with 65.
    /// Any other error ends the run.
    mutating func record(_ record: RecordView) throws
    /// Nothing more can be read without waiting: write out or commit what is held.
    mutating func inputIdle() throws
    /// The input ended; `complete` is false when the run stopped early (`--invalid=fail`).
    /// Write out or commit what is held.
    mutating func finish(complete: Bool) throws
}

/// A valid record a mode could not handle, with the message that says why.
public struct RecordRejected: Error, Sendable {
    /// Reported after the input's prefix (`FILE: `): say which record, and what went wrong.
    public var message: String

    public init(_ message: String) { self.message = message }
}

/// Reads the inputs of `filter`, `deliver` and `render` into a ``RecordSink``: opens each
/// input in turn (``EventInput``), validates every record (``RecordReader``), applies the
/// invalid-record policy (``InvalidPolicy``), counts, and decides the exit status.
///
/// Exit status: 66 when an input cannot be opened; 65 for invalid records (unless they go to a
/// file) and for records the sink rejected; 74 for a read or write error; 0 when the output was
/// closed by its reader (`| head`), whatever came before.
public struct RecordPipeline: Sendable {
    public struct Configuration: Sendable {
        public var input: EventInput
        public var invalidPolicy: InvalidPolicy
        public var maxRecordSize: Int
        public var maxDepth: Int

        public init(
            input: EventInput = EventInput(paths: []),
            invalidPolicy: InvalidPolicy = .report,
            maxRecordSize: Int = RecordReaderConfiguration.defaultMaxRecordSize,
            maxDepth: Int = RecordReaderConfiguration.defaultMaxDepth
        ) {
            self.input = input
            self.invalidPolicy = invalidPolicy
            self.maxRecordSize = maxRecordSize
            self.maxDepth = maxDepth
        }
    }

    public struct Counts: Sendable, Equatable {
        /// Records read, valid or not.
        public var read = 0
        public var invalid = 0
        /// Valid records the sink rejected.
        public var rejected = 0

        public init(read: Int = 0, invalid: Int = 0, rejected: Int = 0) {
            self.read = read
            self.invalid = invalid
            self.rejected = rejected
        }
    }

    public struct Outcome: Sendable, Equatable {
        public var status: ExitStatus
        public var counts: Counts
        /// The output's reader went away (`| head`): the run ended quietly with status 0.
        public var outputClosed: Bool
    }

    public let configuration: Configuration
    public let diagnostics: Diagnostics

    public init(configuration: Configuration, diagnostics: Diagnostics = Diagnostics()) {
        self.configuration = configuration
        self.diagnostics = diagnostics
    }

    /// Reads every input into `sink`, extracting the fields `selector` names, and returns how
    /// the run ended. Failures are reported on `diagnostics` as they happen.
    public func run<Sink: RecordSink>(_ sink: inout Sink, selector: FieldSelector) -> Outcome {
        let invalidFile: InvalidRecordFile?
        do {
            invalidFile = try configuration.invalidPolicy.openFile()
        } catch {
            diagnostics.report("\(error); check the --invalid path")
            return Outcome(status: .ioError, counts: Counts(), outputClosed: false)
        }
        let reader = RecordReaderConfiguration(
            selector: selector, maxRecordSize: configuration.maxRecordSize, maxDepth: configuration.maxDepth)
        var handler = Handler(
            sink: sink, diagnostics: diagnostics, failFast: configuration.invalidPolicy == .fail, invalidFile: invalidFile)
        defer { sink = handler.sink }
        var status = ExitStatus.success
        do {
            try configuration.input.forEach(diagnostics: diagnostics, status: &status) { fd, name, prefix in
                handler.prefix = prefix
                try RecordReader(fd: fd, name: name, configuration: reader).run(&handler)
            }
            try handler.sink.finish(complete: true)
        } catch OutputError.brokenPipe {
            return Outcome(status: .success, counts: handler.counts, outputClosed: true)
        } catch is StopAtInvalid {
            status = max(status, .dataError)
            do { try handler.sink.finish(complete: false) } catch OutputError.brokenPipe {} catch {
                diagnostics.report("\(error)")
                status = .ioError
            }
        } catch {
            diagnostics.report("\(error)")
            status = max(status, .ioError)
        }
        let counts = handler.counts
        if counts.invalid > 0, invalidFile == nil { status = max(status, .dataError) }
        if counts.rejected > 0 { status = max(status, .dataError) }
        return Outcome(status: status, counts: counts, outputClosed: false)
    }

    /// `--invalid=fail` met an invalid record.
    private struct StopAtInvalid: Error {}

    /// The invalid-record policy and the counts around a sink.
    private struct Handler<Sink: RecordSink>: RecordHandler {
        var sink: Sink
        let diagnostics: Diagnostics
        let failFast: Bool
        let invalidFile: InvalidRecordFile?
        /// `FILE: ` before each message about a named input; empty for standard input.
        var prefix = ""
        var counts = Counts()

        @inline(__always)
        mutating func record(_ record: RecordView) throws {
            counts.read += 1
            do {
                try sink.record(record)
            } catch let rejected as RecordRejected {
                counts.rejected += 1
                diagnostics.report(prefix + rejected.message)
            }
        }

        mutating func invalid(_ error: InvalidRecord) throws {
            counts.read += 1
            counts.invalid += 1
            diagnostics.report(prefix + error.description(stopped: failFast))
            if failFast { throw StopAtInvalid() }
        }

        mutating func invalidBytes(_ bytes: UnsafeRawBufferPointer) throws { try invalidFile?.append(bytes) }

        mutating func invalidEnd() throws { try invalidFile?.endRecord() }

        mutating func inputIdle() throws { try sink.inputIdle() }
    }
}
