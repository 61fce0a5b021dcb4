/// The `filter` mode: reads events, writes those the filter keeps, byte for byte.
public struct FilterRun: Sendable {
    public struct Configuration: Sendable {
        /// Inputs, the invalid-record policy and the limits.
        public var records: RecordPipeline.Configuration
        public var filter: Filter
        public var layout: EventLayout
        /// Keep the events the filter rejects instead.
        public var invert: Bool
        /// Print only the number of kept events.
        public var countOnly: Bool
        /// Print a summary line on stderr at the end.
        public var summary: Bool

        public init(
            records: RecordPipeline.Configuration = RecordPipeline.Configuration(),
            filter: Filter = Filter(),
            layout: EventLayout = EventLayout(),
            invert: Bool = false,
            countOnly: Bool = false,
            summary: Bool = false
        ) {
            self.records = records
            self.filter = filter
            self.layout = layout
            self.invert = invert
            self.countOnly = countOnly
            self.summary = summary
        }
    }

    public struct Statistics: Sendable, Equatable, CustomStringConvertible {
        public var read = 0
        public var matched = 0
        public var invalid = 0
        public var unknownSeverity = 0

        public var description: String {
            "read \(read), matched \(matched), invalid \(invalid), unknown severity \(unknownSeverity)"
        }
    }

    public let configuration: Configuration
    public let diagnostics: Diagnostics

    public init(configuration: Configuration, diagnostics: Diagnostics = Diagnostics()) {
        self.configuration = configuration
        self.diagnostics = diagnostics
    }

    /// Runs to the end of the input and returns the exit status.
    public func run(output: OutputBuffer) -> ExitStatus {
        var sink = Sink(configuration: configuration, output: output)
        let outcome = RecordPipeline(configuration: configuration.records, diagnostics: diagnostics)
            .run(&sink, selector: configuration.layout.selector)
        if configuration.summary, !outcome.outputClosed {
            let statistics = Statistics(
                read: outcome.counts.read, matched: sink.matched, invalid: outcome.counts.invalid,
                unknownSeverity: sink.unknownSeverity)
            diagnostics.report(statistics.description)
        }
        return outcome.status
    }

    /// Evaluates each record and writes the kept ones.
    private struct Sink: RecordSink {
        let filter: Filter
        let layout: EventLayout
        let invert: Bool
        let countOnly: Bool
        let output: OutputBuffer
        var matched = 0
        var unknownSeverity = 0

        init(configuration: Configuration, output: OutputBuffer) {
            filter = configuration.filter
            layout = configuration.layout
            invert = configuration.invert
            countOnly = configuration.countOnly
            self.output = output
        }

        @inline(__always)
        mutating func record(_ record: RecordView) throws {
            let verdict = filter.evaluate(record, layout: layout)
            if verdict.unknownSeverity { unknownSeverity += 1 }
            guard verdict.matches != invert else { return }
            matched += 1
            if countOnly { return }
            try output.write(record.bytes)
            try output.write(byte: 0x0A)
            try output.endRecord()
        }

        mutating func inputIdle() throws { try output.flush() }

        /// `--count` prints its number only when the whole input was read.
        mutating func finish(complete: Bool) throws {
            if complete, countOnly { try output.write("\(matched)\n") }
            try output.flush()
        }
    }
}
