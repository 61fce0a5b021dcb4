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
        var sink = RenderSink(template: try templates.payloadTemplate(), output: OutputBuffer(fd: 1))
        try exitProcess(with: RecordPipeline(configuration: input.records).run(&sink, selector: sink.layout.selector).status)
    }
}
