/// The built-in payload templates, compiled in. Each renders every event type into the payload
/// its target documents, within the limits it documents; the helpers they use are those of
/// ``TemplateContext``, cut to the lengths in ``limits``.
enum BuiltinTemplates {
    /// The ticket steps' bodies among ``sources``: a comment and a close per tracker.
    static let ticketSteps: Set<String> = ["jira-comment", "jira-close", "github-issue-comment", "github-issue-close"]

    static let sources: [String: String] = [
        // Slack incoming webhook: https://api.slack.com/messaging/webhooks (blocks, with `text`
        // as the notification fallback). Event text goes in plain_text objects, so a finding can
        // never add Slack markup or mentions. Limits (https://api.slack.com/reference/block-kit/blocks):
        // header text 150, section text 3,000, section field 2,000, 50 blocks (here at most 6).
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
        // The message is at most 28 KB, counted as sent: its limits leave room for text that the
        // JSON escaping makes six times longer (`<` is `\u003c`).
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
        // (one embed, its colour by severity). Limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits):
        // title 256, description 4,096, field name 256 and value 1,024, footer 2,048, 6,000 in all.
        "discord": #"""
            {"username":"hookrelay","allowed_mentions":{"parse":[]},
             "embeds":[{"title":"{{severity_emoji}} {{title}}","description":"{{summary}}","color":{{severity_color_int}},
              "fields":[{"name":"Severity","value":"{{severity_upper}}","inline":true},{"name":"Asset","value":"{{asset_name}}","inline":true}{{#remediation}},
               {"name":"Remediation","value":"{{remediation}}"}{{/remediation}}]{{#link}},"url":"{{link}}"{{/link}}{{#timestamp}},
              "timestamp":"{{timestamp}}"{{/timestamp}},"footer":{"text":"{{event_type}} {{id}}"}}]}
            """#,
        // Jira: the body of POST /rest/api/2/issue,
        // https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issues/#api-rest-api-2-issue-post
        // The description is wiki markup: event text goes in through `jira_wiki`. Summary at most
        // 255 characters, description 32,767.
        "jira": #"""
            {"fields":{"project":{"key":"{{vars.project}}"},"issuetype":{"name":"{{vars.issue_type}}"},
              "summary":"[{{severity_upper}}] {{title}}",
              "description":"{{jira_wiki.summary}}\n\nSeverity: {{severity_upper}}\nAsset: {{jira_wiki.asset_name}}{{#link}}\nURL: {{jira_wiki.link}}{{/link}}{{#remediation}}\n\nRemediation: {{jira_wiki.remediation}}{{/remediation}}\n\nEvent {{jira_wiki.event_type}} {{jira_wiki.id}}, sent by hookrelay.",
              "labels":["hookrelay","severity-{{severity_name}}"]}}
            """#,
        // GitHub: the body of POST /repos/{owner}/{repo}/issues,
        // https://docs.github.com/rest/issues/issues#create-an-issue
        // The body is GitHub Flavored Markdown: event text goes in through `markdown`, and the
        // event in a fenced block (its pretty-printed lines never start with a backtick, so no
        // event can end the fence). Title at most 256 characters, body 65,536.
        "github-issue": #"""
            {"title":"[{{severity_upper}}] {{title}}",
             "body":"**Severity:** {{severity_upper}}\n**Asset:** {{markdown.asset_name}}{{#link}}\n**URL:** {{markdown.link}}{{/link}}\n\n{{markdown.summary}}{{#remediation}}\n\n### Remediation\n\n{{markdown.remediation}}{{/remediation}}\n\n**Event:** {{markdown.event_type}} {{markdown.id}}\n\n<details><summary>Event JSON</summary>\n\n```json\n{{event_json}}\n```\n</details>",
             "labels":["security","severity:{{severity_name}}"]}
            """#,
        // A webhook with `tickets: update` comments on the ticket its finding has (issue 19).
        // Jira: the body of POST /rest/api/2/issue/{key}/comment,
        // https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-comments/#api-rest-api-2-issue-issueidorkey-comment-post
        // (wiki markup, at most 32,767 characters); the close comment goes there too, or into
        // POST …/transitions' `update.comment` when the webhook closes with a transition.
        "jira-comment": #"""
            {"body":"Seen again: [{{severity_upper}}] {{jira_wiki.title}}\nAsset: {{jira_wiki.asset_name}}{{#link}}\nURL: {{jira_wiki.link}}{{/link}}\n\nEvent {{jira_wiki.event_type}} {{jira_wiki.id}}, sent by hookrelay."}
            """#,
        "jira-close": #"""
            {"body":"Reported fixed: [{{severity_upper}}] {{jira_wiki.title}}\nAsset: {{jira_wiki.asset_name}}\n\nEvent {{jira_wiki.event_type}} {{jira_wiki.id}}, sent by hookrelay."}
            """#,
        // GitHub: the body of POST /repos/{owner}/{repo}/issues/{number}/comments,
        // https://docs.github.com/rest/issues/comments#create-an-issue-comment (Markdown, 65,536).
        "github-issue-comment": #"""
            {"body":"**Seen again:** [{{severity_upper}}] {{markdown.title}}\n**Asset:** {{markdown.asset_name}}{{#link}}\n**URL:** {{markdown.link}}{{/link}}\n\n**Event:** {{markdown.event_type}} {{markdown.id}}"}
            """#,
        "github-issue-close": #"""
            {"body":"**Reported fixed:** [{{severity_upper}}] {{markdown.title}}\n**Asset:** {{markdown.asset_name}}\n\n**Event:** {{markdown.event_type}} {{markdown.id}}"}
            """#,
    ]

    /// The helpers' lengths per template, in UTF-16 code units (see ``TemplateContext/Limits``).
    static let limits: [String: TemplateContext.Limits] = {
        let common = TemplateContext.Limits(assetName: 200, id: 128, eventType: 64, eventJSON: 40_000)
        var slack = common
        slack.title = 147  // the header is the emoji (at most 2), a space and the title: 150
        var teams = common
        teams.summary = 1800
        teams.link = 1000
        // GitHub: the body's escaped text (at most 5 times as long: `&` is `&amp;`) and 40,000 of
        // event JSON stay under 65,536.
        return [
            "slack": slack, "teams": teams, "discord": common, "jira": common, "github-issue": common,
            "jira-comment": common, "jira-close": common, "github-issue-comment": common, "github-issue-close": common,
        ]
    }()

    /// Variables a template cannot do without.
    static let requiredVariables: [String: [String]] = ["jira": ["project", "issue_type"]]

    static let variableHelp = ["project": "the Jira project key, e.g. SEC", "issue_type": "the Jira issue type, e.g. Bug"]
}
