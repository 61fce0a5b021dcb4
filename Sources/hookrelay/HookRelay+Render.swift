import ArgumentParser
import HookRelayCore
import HookRelayTemplates

#if canImport(Glibc)
import Glibc
#endif

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the body a payload template makes of each event, as deliver would send it.",
        discussion: """
            Reads events like 'filter' does and writes, for each, the body 'deliver --template' \
            (or a serve webhook's template) would send, one line each. Try a template out before \
            pointing a webhook at a chat or ticketing target.

            Exit status: 0 success; 64 usage error (an unknown template, a missing \
            --template-var); 65 an invalid record, or a rendering that is not valid JSON; 66 an \
            input file is missing; 74 I/O error.
            """
    )

    @OptionGroup(title: "Payload") var templates: TemplateOptions

    @OptionGroup(title: "Input") var input: InputOptions

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let template = try templates.payloadTemplate()
        let diagnostics = Diagnostics()
        let output = OutputBuffer(fd: 1)
        let layout = EventLayout()
        var status = ExitStatus.success
        let invalidFile: InvalidRecordFile?
        do {
            invalidFile = try InvalidPolicy(input.invalid).openFile()
        } catch {
            throw CommandFailure(status: .ioError, message: "\(error); check the --invalid path")
        }
        var handler = RenderHandler(
            template: template, layout: layout, output: output, diagnostics: diagnostics,
            failFast: InvalidPolicy(input.invalid) == .fail, invalidFile: invalidFile)
        let reader = RecordReaderConfiguration(selector: layout.selector, maxRecordSize: input.recordSizeLimit, maxDepth: input.maxDepth)
        do {
            try EventInput(paths: input.files).forEach(diagnostics: diagnostics, status: &status) { fd, name, prefix in
                handler.prefix = prefix
                try RecordReader(fd: fd, name: name, configuration: reader).run(&handler)
            }
            try output.flush()
        } catch OutputError.brokenPipe {
            try exitProcess(with: .success)
        } catch is RenderHandler.Stop {
            try? output.flush()
        }
        if handler.invalid > 0, invalidFile == nil { status = max(status, .dataError) }
        if handler.unrendered > 0 { status = max(status, .dataError) }
        try exitProcess(with: status)
    }
}

/// Renders each record and writes the body as a line.
struct RenderHandler: RecordHandler {
    struct Stop: Error {}

    let template: PayloadTemplate
    let layout: EventLayout
    let output: OutputBuffer
    let diagnostics: Diagnostics
    let failFast: Bool
    let invalidFile: InvalidRecordFile?
    var prefix = ""
    var invalid = 0
    var unrendered = 0

    mutating func record(_ record: RecordView) throws {
        let body: [UInt8]
        do {
            body = try template.render(Array(record.bytes), layout: layout)
        } catch {
            unrendered += 1
            diagnostics.report(prefix + "line \(record.line): \(error)")
            return
        }
        try body.withUnsafeBytes { try output.write($0) }
        try output.write(byte: 0x0A)
        try output.endRecord()
    }

    mutating func invalid(_ error: InvalidRecord) throws {
        invalid += 1
        diagnostics.report(prefix + error.description(stopped: failFast))
        if failFast { throw Stop() }
    }

    mutating func invalidBytes(_ bytes: UnsafeRawBufferPointer) throws { try invalidFile?.append(bytes) }

    mutating func invalidEnd() throws { try invalidFile?.endRecord() }

    mutating func inputIdle() throws { try output.flush() }
}
