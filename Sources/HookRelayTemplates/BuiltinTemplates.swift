/// The built-in payload templates, compiled in. Each renders every event type into the payload
/// its target documents; the helpers they use are those of ``TemplateContext``.
enum BuiltinTemplates {
    static let sources: [String: String] = [
        // Slack incoming webhook: https://api.slack.com/messaging/webhooks (blocks, with `text`
        // as the notification fallback). Event text goes in plain_text objects, so a finding can
        // never add Slack markup or mentions.
        "slack": #"""
            {"text":"{{severity_emoji}} {{severity_upper}}: {{title}}",
             "blocks":[
              {"type":"header","text":{"type":"plain_text","text":"{{severity_emoji}} {{title}}","emoji":true}},
              {"type":"section","fields":[
                {"type":"mrkdwn","text":"*Severity*"},{"type":"mrkdwn","text":"*Asset*"},
                {"type":"plain_text","text":"{{severity_upper}}"},{"type":"plain_text","text":"{{asset_name}}"}]},
              {"type":"section","text":{"type":"plain_text","text":"{{summary}}"}}{{#link}},
              {"type":"section","text":{"type":"plain_text","text":"URL: {{link}}"}}{{/link}}{{#remediation}},
              {"type":"section","text":{"type":"plain_text","text":"Remediation: {{remediation}}"}}{{/remediation}},
              {"type":"context","elements":[{"type":"plain_text","text":"{{event_type}} {{id}} · hookrelay"}]}]}
            """#,
        // Microsoft Teams incoming webhook (Workflows): a message with one Adaptive Card,
        // https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using
        "teams": #"""
            {"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,
             "content":{"$schema":"http://adaptivecards.io/schemas/adaptive-card.json","type":"AdaptiveCard","version":"1.4",
              "body":[
               {"type":"TextBlock","size":"Large","weight":"Bolder","wrap":true,"color":"{{teams_color}}","text":"{{severity_emoji}} {{title}}"},
               {"type":"FactSet","facts":[{"title":"Severity","value":"{{severity_upper}}"},{"title":"Asset","value":"{{asset_name}}"},
                {"title":"Event","value":"{{event_type}} {{id}}"}]},
               {"type":"TextBlock","wrap":true,"text":"{{summary}}"}{{#remediation}},
               {"type":"TextBlock","wrap":true,"text":"Remediation: {{remediation}}"}{{/remediation}}]{{#link}},
              "actions":[{"type":"Action.OpenUrl","title":"Open","url":"{{link}}"}]{{/link}}}}]}
            """#,
        // Discord webhook: https://discord.com/developers/docs/resources/webhook#execute-webhook
        // (one embed, its colour by severity).
        "discord": #"""
            {"username":"hookrelay","allowed_mentions":{"parse":[]},
             "embeds":[{"title":"{{severity_emoji}} {{title}}","description":"{{summary}}","color":{{severity_color_int}},
              "fields":[{"name":"Severity","value":"{{severity_upper}}","inline":true},{"name":"Asset","value":"{{asset_name}}","inline":true}{{#remediation}},
               {"name":"Remediation","value":"{{remediation}}"}{{/remediation}}]{{#link}},"url":"{{link}}"{{/link}}{{#timestamp}},
              "timestamp":"{{timestamp}}"{{/timestamp}},"footer":{"text":"{{event_type}} {{id}}"}}]}
            """#,
        // Jira: the body of POST /rest/api/2/issue,
        // https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-post
        "jira": #"""
            {"fields":{"project":{"key":"{{vars.project}}"},"issuetype":{"name":"{{vars.issue_type}}"},
              "summary":"[{{severity_upper}}] {{title}}",
              "description":"{{summary}}\n\nSeverity: {{severity_upper}}\nAsset: {{asset_name}}{{#link}}\nURL: {{link}}{{/link}}{{#remediation}}\n\nRemediation: {{remediation}}{{/remediation}}\n\nEvent {{event_type}} {{id}}, sent by hookrelay.",
              "labels":["hookrelay","severity-{{severity_name}}"]}}
            """#,
        // GitHub: the body of POST /repos/{owner}/{repo}/issues,
        // https://docs.github.com/rest/issues/issues#create-an-issue
        "github-issue": #"""
            {"title":"[{{severity_upper}}] {{title}}",
             "body":"**Severity:** {{severity_upper}}\n**Asset:** {{asset_name}}{{#link}}\n**URL:** {{link}}{{/link}}\n\n{{summary}}{{#remediation}}\n\n### Remediation\n\n{{remediation}}{{/remediation}}\n\n<details><summary>Event {{id}}</summary>\n\n```json\n{{event_json}}\n```\n</details>",
             "labels":["security","severity:{{severity_name}}"]}
            """#,
    ]

    /// Variables a template cannot do without.
    static let requiredVariables: [String: [String]] = ["jira": ["project", "issue_type"]]

    static let variableHelp = ["project": "the Jira project key, e.g. SEC", "issue_type": "the Jira issue type, e.g. Bug"]
}
