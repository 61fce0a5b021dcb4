import ArgumentParser
import HookRelayCore

/// Options of every mode that reads events: inputs, invalid-record policy, limits.
struct InputOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Files of JSON events to read; '-' or none reads standard input.", valueName: "file"))
    var files: [String] = []

    @Option(
        help: ArgumentHelp(
            "What to do with an invalid record: 'report' (report, skip, exit 65 at the end), 'fail' (stop at the first, exit 65), or a FILE to append the raw bad records to (exit 0).",
            valueName: "report|fail|file"))
    var invalid: String = "report"

    @Option(
        help: ArgumentHelp(
            "Largest record accepted, in bytes or with a k, M or G suffix; a larger one is reported and skipped.",
            valueName: "size"))
    var maxRecordSize: String = "16M"

    @Option(help: ArgumentHelp("Deepest nesting of arrays and objects accepted in a record.", valueName: "n"))
    var maxDepth: Int = RecordReaderConfiguration.defaultMaxDepth

    func validate() throws {
        guard ByteCount.parse(maxRecordSize) != nil else {
            throw ValidationError("--max-record-size '\(maxRecordSize)' is not a size; give bytes or a number with k, M or G (e.g. 16M)")
        }
        guard maxDepth >= 1 else { throw ValidationError("--max-depth must be at least 1") }
        if invalid.isEmpty { throw ValidationError("--invalid needs 'report', 'fail' or a file path") }
    }

    var recordSizeLimit: Int { ByteCount.parse(maxRecordSize) ?? RecordReaderConfiguration.defaultMaxRecordSize }

    /// The inputs, invalid-record policy and limits of the record pipeline these options give.
    var records: RecordPipeline.Configuration {
        RecordPipeline.Configuration(
            input: EventInput(paths: files), invalidPolicy: InvalidPolicy(invalid), maxRecordSize: recordSizeLimit, maxDepth: maxDepth)
    }
}

/// Options that select events: the shared `Filter` of `filter`, and later of webhooks.
struct FilterOptions: ParsableArguments {
    @Option(
        name: .customLong("event"),
        help: ArgumentHelp("Keep events of this type (repeatable, or comma-separated).", valueName: "type"))
    var events: [String] = []

    @Option(help: ArgumentHelp("Dotted path of the event type field.", valueName: "path"))
    var typeField: String = EventLayout.defaultTypePath

    @Option(help: ArgumentHelp(
        "Keep findings at or above this severity (critical > high > medium > low > info, any case). Events without a severity pass.",
        valueName: "severity"))
    var minSeverity: String?

    @Option(
        name: .customLong("severity"),
        help: ArgumentHelp("Keep findings of exactly this severity (repeatable, or comma-separated).", valueName: "severity"))
    var severities: [String] = []

    @Option(help: ArgumentHelp(
        "Dotted path of the severity field (default: finding.severity, else severity).", valueName: "path"))
    var severityField: String?

    @Option(
        name: .customLong("asset"),
        help: ArgumentHelp(
            "Keep events whose asset (finding.asset, scan.asset, asset.name or asset) matches this shell glob (repeatable).",
            valueName: "glob"))
    var assets: [String] = []

    func validate() throws {
        for path in [typeField] + (severityField.map { [$0] } ?? []) where !FieldSelector.validate(path: path) {
            throw ValidationError("field path '\(path)' is not valid; give member names separated by single dots, e.g. finding.severity")
        }
        if minSeverity != nil, !severities.isEmpty {
            throw ValidationError("use either --min-severity or --severity, not both")
        }
        for name in (minSeverity.map { [$0] } ?? []) + severityNames where Severity(name) == nil {
            throw ValidationError("unknown severity '\(name)'; use one of \(Severity.allNames)")
        }
        if eventTypes.isEmpty, !events.isEmpty {
            throw ValidationError("--event needs an event type, e.g. --event finding")
        }
        if severityNames.isEmpty, !severities.isEmpty {
            throw ValidationError("--severity needs a severity, e.g. --severity critical,high")
        }
    }

    private var eventTypes: [String] { split(events) }
    private var severityNames: [String] { split(severities) }

    private func split(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",").map { String($0).trimmingWhitespace() } }.filter { !$0.isEmpty }
    }

    var filter: HookRelayCore.Filter {
        let condition: HookRelayCore.Filter.SeverityCondition
        if let minSeverity, let minimum = Severity(minSeverity) {
            condition = .atLeast(minimum)
        } else if !severityNames.isEmpty {
            condition = .oneOf(Set(severityNames.compactMap(Severity.init)))
        } else {
            condition = .any
        }
        return HookRelayCore.Filter(eventTypes: eventTypes, severity: condition, assetGlobs: assets)
    }

    var layout: EventLayout {
        EventLayout(
            typePath: typeField,
            severityPaths: severityField.map { [$0] } ?? EventLayout.defaultSeverityPaths)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
