import ArgumentParser
import HookRelayTemplates

/// `--template` and `--template-var`, for `deliver` and `render`.
struct TemplateOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Payload template: raw (the event's bytes, the default), slack, teams, discord, jira, github-issue, or a Mustache file.",
        valueName: "name|file"))
    var template: String = "raw"

    @Option(
        name: .customLong("template-var"),
        help: ArgumentHelp("A value for the template, NAME=VALUE, {{vars.NAME}} in it (repeatable); jira needs project and issue_type.", valueName: "name=value"))
    var variables: [String] = []

    func payloadTemplate() throws -> PayloadTemplate {
        do {
            return try PayloadTemplate(template, variables: TemplateVariables.parse(variables, source: "--template-var"))
        } catch let problem as TemplateVariables.Problem {
            throw ValidationError(problem.description)
        } catch let problem as PayloadTemplate.Problem {
            throw ValidationError(problem.description)
        }
    }
}
