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

            A finding's fingerprint is its finding.id when present, else fp_ and 32 hex digits \
            hashed from its asset, title, URL and parameter (trimmed; host names in any case). \
            --print-fingerprint writes it instead of each kept event (an empty line for an event \
            without one); --unique drops an event whose fingerprint and severity were already \
            kept, remembering the --unique-window most recently seen ones.

            Exit status: 0 success; 64 usage error; 65 invalid records were found (with \
            --invalid=report or fail); 66 an input file is missing or unreadable; 74 I/O error.
            """
    )

    @OptionGroup(title: "Selection") var selection: FilterOptions

    @Flag(help: "Keep the events that do not match instead.")
    var invert = false

    @Flag(help: "Print only the number of kept events.")
    var count = false

    @Flag(help: "Print one line on standard error at the end: read, matched, invalid, unknown severity (and duplicates with --unique).")
    var summary = false

    @Flag(help: "Write each kept event's fingerprint, one a line, instead of the event (an empty line when it has none).")
    var printFingerprint = false

    @Flag(help: "Drop an event whose fingerprint (and severity) was already seen; events without a fingerprint pass.")
    var unique = false

    @Option(help: ArgumentHelp(
        "With --unique: how many of the most recently seen fingerprints are remembered (default 1000000, about 33 MiB when full); an older one passes again.",
        valueName: "n"))
    var uniqueWindow: Int?

    @Flag(help: "With --unique: a change of severity alone is a duplicate too.")
    var uniqueIgnoresSeverity = false

    @OptionGroup(title: "Fingerprints") var fingerprint: FingerprintOptions

    @OptionGroup(title: "Input") var input: InputOptions

    func validate() throws {
        if count, printFingerprint {
            throw ValidationError("use either --count or --print-fingerprint, not both")
        }
        if !unique, uniqueWindow != nil || uniqueIgnoresSeverity {
            throw ValidationError("\(uniqueWindow != nil ? "--unique-window" : "--unique-ignores-severity") applies to --unique; add --unique")
        }
        if let uniqueWindow, !(1...FingerprintWindow.maxCapacity).contains(uniqueWindow) {
            throw ValidationError("--unique-window must be between 1 and \(FingerprintWindow.maxCapacity) fingerprints; \(uniqueWindow) was given")
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let configuration = FilterRun.Configuration(
            records: input.records,
            filter: selection.filter,
            layout: selection.layout,
            invert: invert,
            countOnly: count,
            summary: summary,
            fingerprint: fingerprint.rule,
            printFingerprint: printFingerprint,
            unique: unique
                ? FilterRun.Unique(window: uniqueWindow ?? FilterRun.Unique.defaultWindow, ignoresSeverity: uniqueIgnoresSeverity)
                : nil)
        let status = FilterRun(configuration: configuration).run(output: OutputBuffer(fd: 1))
        try exitProcess(with: status)
    }
}
