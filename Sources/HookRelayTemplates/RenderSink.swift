import HookRelayCore

/// What `render` does with each record (the rest is ``RecordPipeline``'s): prints the body a
/// payload template makes of it, as `deliver --template` or a `serve` webhook would send it, one
/// line each. A rendering that fails is rejected: reported with its line, and the run ends with 65.
/// With a fingerprint rule (`render --fingerprint`) each line starts with the event's
/// fingerprint and a tab.
public struct RenderSink: RecordSink {
    public let template: PayloadTemplate
    public let layout: EventLayout
    public let output: OutputBuffer
    public let fingerprinter: Fingerprinter?

    public init(template: PayloadTemplate, layout: EventLayout = EventLayout(), output: OutputBuffer, fingerprint: FingerprintRule? = nil) {
        self.template = template
        self.layout = layout
        self.output = output
        fingerprinter = fingerprint.map { Fingerprinter(rule: $0, layout: layout) }
    }

    /// The fields to extract: the layout's, and the fingerprint's when one is shown.
    public var selector: FieldSelector { fingerprinter?.selector ?? layout.selector }

    public mutating func record(_ record: RecordView) throws {
        let body: [UInt8]
        do {
            body = try template.render(Array(record.bytes), layout: layout)
        } catch {
            throw RecordRejected("line \(record.line): \(error)")
        }
        if let fingerprinter {
            if let fingerprint = fingerprinter.fingerprint(of: record) { try output.write(fingerprint.text) }
            try output.write(byte: 0x09)
        }
        try body.withUnsafeBytes { try output.write($0) }
        try output.write(byte: 0x0A)
        try output.endRecord()
    }

    public mutating func inputIdle() throws { try output.flush() }

    public mutating func finish(complete: Bool) throws { try output.flush() }
}
