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
        var values: [String: String] = [:]
        for variable in variables {
            guard let equals = variable.firstIndex(of: "="), equals != variable.startIndex else {
                throw ValidationError("--template-var '\(variable)' needs the form NAME=VALUE")
            }
            values[String(variable[..<equals])] = String(variable[variable.index(after: equals)...])
        }
        do {
            return try PayloadTemplate(template, variables: values)
        } catch let problem as PayloadTemplate.Problem {
            throw ValidationError(problem.description)
        }
    }
}
