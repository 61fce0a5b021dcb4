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
        /// How fingerprints are made (`--print-fingerprint`, `--unique`).
        public var fingerprint: FingerprintRule
        /// Write each kept event's fingerprint (an empty line when it has none) instead of the event.
        public var printFingerprint: Bool
        /// De-duplicate the kept events by fingerprint; nil: off.
        public var unique: Unique?

        public init(
            records: RecordPipeline.Configuration = RecordPipeline.Configuration(),
            filter: Filter = Filter(),
            layout: EventLayout = EventLayout(),
            invert: Bool = false,
            countOnly: Bool = false,
            summary: Bool = false,
            fingerprint: FingerprintRule = FingerprintRule(),
            printFingerprint: Bool = false,
            unique: Unique? = nil
        ) {
            self.records = records
            self.filter = filter
            self.layout = layout
            self.invert = invert
            self.countOnly = countOnly
            self.summary = summary
            self.fingerprint = fingerprint
            self.printFingerprint = printFingerprint
            self.unique = unique
        }
    }

    /// `--unique`: an event whose key was seen among the `window` most recently seen keys is
    /// dropped. The key is the fingerprint and, unless `ignoresSeverity`, the severity. Events
    /// without a fingerprint always pass.
    public struct Unique: Sendable, Equatable {
        public var window: Int
        public var ignoresSeverity: Bool

        public static let defaultWindow = 1_000_000

        public init(window: Int = Unique.defaultWindow, ignoresSeverity: Bool = false) {
            self.window = window
            self.ignoresSeverity = ignoresSeverity
        }
    }

    public struct Statistics: Sendable, Equatable, CustomStringConvertible {
        public var read = 0
        public var matched = 0
        public var invalid = 0
        public var unknownSeverity = 0
        /// Kept events dropped as duplicates; nil without `--unique`.
        public var duplicates: Int?

        public var description: String {
            "read \(read), matched \(matched), invalid \(invalid), unknown severity \(unknownSeverity)"
                + (duplicates.map { ", duplicates \($0)" } ?? "")
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
            .run(&sink, selector: sink.selector)
        if configuration.summary, !outcome.outputClosed {
            let statistics = Statistics(
                read: outcome.counts.read, matched: sink.matched, invalid: outcome.counts.invalid,
                unknownSeverity: sink.unknownSeverity, duplicates: sink.window == nil ? nil : sink.duplicates)
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
        /// Set when fingerprints are needed: then the selector also extracts the rule's fields.
        let fingerprinter: Fingerprinter?
        let printFingerprint: Bool
        let uniqueBySeverity: Bool
        var window: FingerprintWindow?
        var matched = 0
        var unknownSeverity = 0
        var duplicates = 0

        init(configuration: Configuration, output: OutputBuffer) {
            filter = configuration.filter
            layout = configuration.layout
            invert = configuration.invert
            countOnly = configuration.countOnly
            self.output = output
            printFingerprint = configuration.printFingerprint
            uniqueBySeverity = !(configuration.unique?.ignoresSeverity ?? false)
            window = configuration.unique.map { FingerprintWindow(capacity: $0.window) }
            fingerprinter = configuration.printFingerprint || configuration.unique != nil
                ? Fingerprinter(rule: configuration.fingerprint, layout: configuration.layout) : nil
        }

        var selector: FieldSelector { fingerprinter?.selector ?? layout.selector }

        @inline(__always)
        mutating func record(_ record: RecordView) throws {
            let verdict = filter.evaluate(record, layout: layout)
            if verdict.unknownSeverity { unknownSeverity += 1 }
            guard verdict.matches != invert else { return }
            if window != nil, let key = fingerprinter?.key(of: record, severity: uniqueBySeverity), window!.insert(key) {
                duplicates += 1
                return
            }
            matched += 1
            if countOnly { return }
            if printFingerprint {
                if let fingerprint = fingerprinter?.fingerprint(of: record) { try output.write(fingerprint.text) }
            } else {
                try output.write(record.bytes)
            }
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
