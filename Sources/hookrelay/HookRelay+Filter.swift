import ArgumentParser
import HookRelayCore

#if canImport(Glibc)
import Glibc
#endif

struct FilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Keep the JSON events that match event-type, severity and asset filters.",
        discussion: """
            Reads a stream of JSON objects (NDJSON, concatenated, or pretty-printed) and writes \
            each kept event as the exact bytes it was given, followed by a newline. Every record \
            is validated strictly (RFC 8259, UTF-8); an invalid one is reported on standard error \
            with its line and byte offset, and reading resumes at the next line that starts a \
            record. When a key appears twice in one object, the last occurrence counts.

            Exit status: 0 success; 64 usage error; 65 invalid records were found (with \
            --invalid=report or fail); 66 an input file is missing or unreadable; 74 I/O error.
            """
    )

    @OptionGroup(title: "Selection") var selection: FilterOptions

    @Flag(help: "Keep the events that do not match instead.")
    var invert = false

    @Flag(help: "Print only the number of kept events.")
    var count = false

    @Flag(help: "Print one line on standard error at the end: read, matched, invalid, unknown severity.")
    var summary = false

    @OptionGroup(title: "Input") var input: InputOptions

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let configuration = FilterRun.Configuration(
            records: input.records,
            filter: selection.filter,
            layout: selection.layout,
            invert: invert,
            countOnly: count,
            summary: summary)
        let status = FilterRun(configuration: configuration).run(output: OutputBuffer(fd: 1))
        try exitProcess(with: status)
    }
}
