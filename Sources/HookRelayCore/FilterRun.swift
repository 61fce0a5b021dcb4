/// The `filter` mode: reads events, writes those the filter keeps, byte for byte.
public struct FilterRun: Sendable {
    public struct Configuration: Sendable {
        public var input: EventInput
        public var filter: Filter
        public var layout: EventLayout
        /// Keep the events the filter rejects instead.
        public var invert: Bool
        /// Print only the number of kept events.
        public var countOnly: Bool
        /// Print a summary line on stderr at the end.
        public var summary: Bool
        public var invalidPolicy: InvalidPolicy
        public var maxRecordSize: Int
        public var maxDepth: Int

        public init(
            input: EventInput = EventInput(paths: []),
            filter: Filter = Filter(),
            layout: EventLayout = EventLayout(),
            invert: Bool = false,
            countOnly: Bool = false,
            summary: Bool = false,
            invalidPolicy: InvalidPolicy = .report,
            maxRecordSize: Int = RecordReaderConfiguration.defaultMaxRecordSize,
            maxDepth: Int = RecordReaderConfiguration.defaultMaxDepth
        ) {
            self.input = input
            self.filter = filter
            self.layout = layout
            self.invert = invert
            self.countOnly = countOnly
            self.summary = summary
            self.invalidPolicy = invalidPolicy
            self.maxRecordSize = maxRecordSize
            self.maxDepth = maxDepth
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
        let invalidFile: InvalidRecordFile?
        do {
            invalidFile = try configuration.invalidPolicy.openFile()
        } catch {
            diagnostics.report("\(error); check the --invalid path")
            return .ioError
        }
        let reader = RecordReaderConfiguration(
            selector: configuration.layout.selector,
            maxRecordSize: configuration.maxRecordSize,
            maxDepth: configuration.maxDepth)
        var handler = Handler(
            configuration: configuration, output: output, diagnostics: diagnostics, invalidFile: invalidFile)
        var status = ExitStatus.success
        do {
            try configuration.input.forEach(diagnostics: diagnostics, status: &status) { fd, name, prefix in
                handler.prefix = prefix
                try RecordReader(fd: fd, name: name, configuration: reader).run(&handler)
            }
            if configuration.countOnly {
                try output.write("\(handler.statistics.matched)\n")
            }
            try output.flush()
        } catch OutputError.brokenPipe {
            return .success
        } catch is StopAtInvalid {
            status = max(status, .dataError)
            do { try output.flush() } catch OutputError.brokenPipe {} catch {
                diagnostics.report("\(error)")
                status = .ioError
            }
        } catch {
            diagnostics.report("\(error)")
            status = max(status, .ioError)
        }
        if configuration.summary { diagnostics.report(handler.statistics.description) }
        if handler.statistics.invalid > 0, invalidFile == nil { status = max(status, .dataError) }
        return status
    }

    private struct StopAtInvalid: Error {}

    private struct Handler: RecordHandler {
        let filter: Filter
        let layout: EventLayout
        let invert: Bool
        let countOnly: Bool
        let failFast: Bool
        let output: OutputBuffer
        let diagnostics: Diagnostics
        let invalidFile: InvalidRecordFile?
        var prefix = ""
        var statistics = Statistics()

        init(configuration: Configuration, output: OutputBuffer, diagnostics: Diagnostics, invalidFile: InvalidRecordFile?) {
            filter = configuration.filter
            layout = configuration.layout
            invert = configuration.invert
            countOnly = configuration.countOnly
            failFast = configuration.invalidPolicy == .fail
            self.output = output
            self.diagnostics = diagnostics
            self.invalidFile = invalidFile
        }

        mutating func record(_ record: RecordView) throws {
            statistics.read += 1
            let verdict = filter.evaluate(record, layout: layout)
            if verdict.unknownSeverity { statistics.unknownSeverity += 1 }
            guard verdict.matches != invert else { return }
            statistics.matched += 1
            if countOnly { return }
            try output.write(record.bytes)
            try output.write(byte: 0x0A)
            try output.endRecord()
        }

        mutating func invalid(_ error: InvalidRecord) throws {
            statistics.read += 1
            statistics.invalid += 1
            diagnostics.report(prefix + error.description(stopped: failFast))
            if failFast { throw StopAtInvalid() }
        }

        mutating func invalidBytes(_ bytes: UnsafeRawBufferPointer) throws {
            try invalidFile?.append(bytes)
        }

        mutating func invalidEnd() throws {
            try invalidFile?.endRecord()
        }

        mutating func inputIdle() throws {
            try output.flush()
        }
    }
}
