import ArgumentParser
import HookRelayCore
import HookRelayTemplates

/// `deliver --digest`, `--digest-bypass`, `--digest-top` (issue 19): the webhook fields' checks.
struct DigestOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Gather the events into one message per window (1s to 24h, e.g. 5m); what is open is sent at the end of the input.",
        valueName: "duration"))
    var digest: String?

    @Option(help: ArgumentHelp("With --digest: send findings at or above this severity at once (default none).", valueName: "severity"))
    var digestBypass: String?

    @Option(help: ArgumentHelp("With --digest: how many titles a digest lists, 1 to 20 (default 5).", valueName: "n"))
    var digestTop: Int?

    /// The settings, or nil without `--digest` (or with `--digest off`); a usage error otherwise.
    func settings(template: String) throws -> DigestSettings? {
        guard let digest else {
            if digestBypass != nil || digestTop != nil { throw ValidationError("--digest-bypass and --digest-top go with --digest DURATION") }
            return nil
        }
        let window: Int64?
        switch DigestSettings.window(parsing: digest) {
        case let .failure(problem): throw ValidationError("--digest \(problem.description)")
        case let .success(value): window = value
        }
        guard let window else { return nil }
        var settings = DigestSettings(window: window)
        if let digestBypass, digestBypass != "none" {
            guard let severity = Severity(digestBypass) else {
                throw ValidationError("--digest-bypass must be one of \(Severity.allNames), or none; got \(digestBypass)")
            }
            settings.bypass = severity
        }
        if let digestTop {
            if let problem = DigestSettings.checkTop(digestTop) { throw ValidationError("--digest-top \(problem.description)") }
            settings.top = digestTop
        }
        guard PayloadTemplate.sendsDigests(template) else {
            throw ValidationError("--digest is for the slack, teams and discord templates, raw and template files; the \(template) template makes a ticket per finding")
        }
        return settings
    }
}
