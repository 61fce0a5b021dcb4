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

            With --fingerprint, each line starts with the event's fingerprint and a tab (nothing \
            before the tab for an event without one), as 'filter --print-fingerprint' prints it.

            Exit status: 0 success; 64 usage error (an unknown template, a missing \
            --template-var); 65 an invalid record, or a rendering that is not valid JSON; 66 an \
            input file is missing; 74 I/O error.
            """
    )

    @OptionGroup(title: "Payload") var templates: TemplateOptions

    @Flag(help: "Start each line with the event's fingerprint and a tab.")
    var fingerprint = false

    @OptionGroup(title: "Fingerprints") var fingerprints: FingerprintOptions

    @OptionGroup(title: "Input") var input: InputOptions

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        var sink = RenderSink(
            template: try templates.payloadTemplate(), output: OutputBuffer(fd: 1),
            fingerprint: fingerprint ? fingerprints.rule : nil)
        try exitProcess(with: RecordPipeline(configuration: input.records).run(&sink, selector: sink.selector).status)
    }
}
