import Testing
@testable import HookRelayTemplates

/// One reading of NAME=VALUE for `--template-var` (deliver, render, webhooks) and the web page
/// (issue 14: it was three with different rules: the web page trimmed and took an empty name,
/// the command lines did neither, and a repeated name silently kept the last value).
@Suite struct TemplateVariablesTests {
    @Test func namesAndValuesAreTrimmedAndTheValueKeepsFurtherEquals() throws {
        let values = try TemplateVariables.parse([" project = SEC ", "jql=a=b", "empty="], source: "--template-var")
        #expect(values == ["project": "SEC", "jql": "a=b", "empty": ""])
    }

    @Test(arguments: [
        (["novalue"], "--template-var 'novalue' needs the form NAME=VALUE"),
        (["=x"], "--template-var '=x' needs a name before '='"),
        ([" \t=x"], "needs a name before '='"),
        (["a=1", "a = 2"], "--template-var a is given twice"),
    ])
    func mistakesAreRefusedWithTheReason(_ items: [String], _ message: String) {
        #expect {
            _ = try TemplateVariables.parse(items, source: "--template-var")
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    /// The API's `template_vars` object takes names by the same rule (it took an empty one).
    @Test func namesGivenAsAnObjectFollowTheSameRule() throws {
        try TemplateVariables.check(["project": "SEC", "empty": ""], source: "\"template_vars\"")
        for bad in ["", " team", "team\t"] {
            #expect(throws: TemplateVariables.Problem.self) { try TemplateVariables.check([bad: "x"], source: "\"template_vars\"") }
        }
    }
}
