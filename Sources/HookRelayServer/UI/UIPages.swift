import Mustache

/// The web page's templates and stylesheet, compiled in. Every `{{value}}` is HTML-escaped by
/// Mustache; the only `{{{raw}}}` insertions are HTML this code rendered (the page body, the
/// chart) and the CSRF token (hex).
enum UIPages {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, source) in sources.merging(accessSources, uniquingKeysWith: { first, _ in first }) {
            // A template that does not parse is a programming error, caught by every UI test.
            try! library.register(source, named: name)
        }
        return library
    }()

    static func render(_ name: String, _ context: [String: Any]) -> String {
        library.render(context, withTemplate: name) ?? ""
    }

    static let sources: [String: String] = [
        "layout": #"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{title}} · hookrelay</title>
            <link rel="stylesheet" href="/ui/style.css">
            </head>
            <body>
            <header class="top">
              <a class="brand" href="/ui">hookrelay</a>
              {{#csrf}}
              <nav><span class="hint">Team <strong>{{team}}</strong> · {{role}}</span> <a href="/ui">Webhooks</a>
              {{#manage}}<a href="/ui/webhooks/new">Add webhook</a> <a href="/ui/tokens">Tokens</a> <a href="/ui/audit">Audit</a>{{/manage}}
              {{#is_admin}}<a href="/ui/teams">Teams</a>{{/is_admin}}
              <form method="post" action="/ui/logout" class="inline"><input type="hidden" name="csrf" value="{{{csrf}}}"><button type="submit" class="link">Log out</button></form></nav>
              {{/csrf}}
            </header>
            <main>
            {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
            {{#problem}}<p class="problem" role="alert">{{problem}}</p>{{/problem}}
            {{{content}}}
            </main>
            </body>
            </html>
            """#,
        "login": #"""
            <h1>Log in</h1>
            <form method="post" action="/ui/login" class="stack">
              <label for="token">API token</label>
              <input id="token" name="token" type="password" autocomplete="current-password" required>
              <p class="hint">The token of <code>hookrelay serve</code> (<code>HOOKRELAY_TOKEN</code>, the token file, or <code>DATABASE.token</code>), or a token made for a team: admin, team_admin or viewer. A publisher token only sends events.</p>
              <button type="submit">Log in</button>
            </form>
            """#,
        "webhooks": #"""
            <h1>Webhooks of {{team}}</h1>
            {{#manage}}<p><a class="button" href="/ui/webhooks/new">Add webhook</a></p>{{/manage}}
            {{#has_webhooks}}
            <div class="scroll">
            <table class="cards">
              <caption>Every webhook, with its deliveries of the last 24 hours</caption>
              <thead><tr><th scope="col">URL</th><th scope="col">Sends</th><th scope="col">Health</th><th scope="col">Last delivery</th><th scope="col">Pending</th><th scope="col">Failed (24 h)</th></tr></thead>
              <tbody>
              {{#webhooks}}
              <tr>
                <td data-label="URL"><a href="/ui/webhooks/{{id}}">{{url}}</a>{{#description}}<br><span class="hint">{{description}}</span>{{/description}}</td>
                <td data-label="Sends">{{filter}}</td>
                <td data-label="Health"><span class="badge {{state}}">{{state}}</span>{{#paused}} <span class="badge paused">paused</span>{{/paused}}</td>
                <td data-label="Last delivery">{{last_delivery}}</td>
                <td data-label="Pending">{{pending}}</td>
                <td data-label="Failed (24 h)">{{failed}}</td>
              </tr>
              {{/webhooks}}
              </tbody>
            </table>
            </div>
            {{/has_webhooks}}
            {{^has_webhooks}}<p>No webhook yet.</p>{{/has_webhooks}}
            """#,
        "form": #"""
            <form method="post" action="{{action}}" class="stack">
              <input type="hidden" name="csrf" value="{{{csrf}}}">
              <label for="url">URL</label>
              <input id="url" name="url" type="url" value="{{url}}" required placeholder="https://hooks.example.com/...">
              <fieldset>
                <legend>Event types</legend>
                {{#types}}<label class="check"><input type="checkbox" name="event[]" value="{{name}}"{{#checked}} checked{{/checked}}> {{name}}</label>{{/types}}
                <label for="other_events">Other types, comma-separated</label>
                <input id="other_events" name="other_events" value="{{other_events}}">
                <p class="hint">None chosen: every type.</p>
              </fieldset>
              <fieldset>
                <legend>Severity</legend>
                <label class="check"><input type="radio" name="severity_mode" value="any"{{#mode_any}} checked{{/mode_any}}> Any severity</label>
                <label class="check"><input type="radio" name="severity_mode" value="min"{{#mode_min}} checked{{/mode_min}}> At least</label>
                <label for="min_severity" class="hidden-label">Minimum severity</label>
                <select id="min_severity" name="min_severity">{{#severity_options}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/severity_options}}</select>
                <label class="check"><input type="radio" name="severity_mode" value="list"{{#mode_list}} checked{{/mode_list}}> Only these:</label>
                {{#severity_checks}}<label class="check"><input type="checkbox" name="severity[]" value="{{name}}"{{#checked}} checked{{/checked}}> {{name}}</label>{{/severity_checks}}
              </fieldset>
              <label for="description">Description</label>
              <input id="description" name="description" value="{{description}}">
              <label for="headers">Extra headers, one <code>Name: value</code> a line</label>
              <textarea id="headers" name="headers" rows="3">{{headers}}</textarea>
              <label for="template">Payload template</label>
              <select id="template" name="template">{{#templates}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/templates}}</select>
              <label for="template_vars">Template values, one <code>name=value</code> a line</label>
              <textarea id="template_vars" name="template_vars" rows="2">{{template_vars}}</textarea>
              <label for="rate_limit">Rate limit: <code>1/s</code>, <code>30/m</code>, <code>1000/h</code>, or <code>off</code></label>
              <input id="rate_limit" name="rate_limit" value="{{rate_limit}}" placeholder="none (Slack, Teams and Discord get their own)">
              <label for="ordering">Ordering</label>
              <select id="ordering" name="ordering"><option value="none"{{^fifo}} selected{{/fifo}}>none: side by side</option><option value="fifo"{{#fifo}} selected{{/fifo}}>fifo: one at a time, in order</option></select>
              <label class="check"><input type="checkbox" name="trace_context" value="on"{{#trace_context}} checked{{/trace_context}}> Send the W3C <code>traceparent</code> header (while traces are exported)</label>
              <label for="digest">Digest: one message per window, e.g. <code>5m</code> or <code>1h</code>, or <code>off</code> (slack, teams, discord, raw)</label>
              <input id="digest" name="digest" value="{{digest}}" placeholder="off">
              <label for="digest_bypass">Sent at once, outside the digest: findings at or above</label>
              <select id="digest_bypass" name="digest_bypass">{{#digest_bypass_options}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/digest_bypass_options}}</select>
              <label for="digest_top">Titles a digest lists (1 to 20)</label>
              <input id="digest_top" name="digest_top" value="{{digest_top}}" inputmode="numeric">
              <fieldset>
                <legend>De-duplication</legend>
                <label for="dedupe_window">Window: a finding sent within it is not sent again (<code>30d</code>, <code>12h</code>, <code>90m</code>, or <code>off</code>)</label>
                <input id="dedupe_window" name="dedupe_window" value="{{dedupe_window}}" placeholder="default: off; 30d for jira and github-issue">
                <label class="check"><input type="checkbox" name="dedupe_ignores_severity" value="on"{{#dedupe_ignores_severity}} checked{{/dedupe_ignores_severity}}> A change of severity is a duplicate too</label>
                <label for="fingerprint_fields">Fingerprint fields, comma-separated dotted paths</label>
                <input id="fingerprint_fields" name="fingerprint_fields" value="{{fingerprint_fields}}" placeholder="finding.asset, finding.title, finding.url, finding.parameter">
                <label for="fingerprint_id_field">Fingerprint id field (or <code>none</code>)</label>
                <input id="fingerprint_id_field" name="fingerprint_id_field" value="{{fingerprint_id_field}}" placeholder="finding.id">
              </fieldset>
              <fieldset>
                <legend>Mutual TLS</legend>
                <p class="hint">Client certificate: {{client_cert_state}}. CA: {{ca_state}}. Key material is never shown; paste PEM text to replace it, leave a box empty to keep what is stored.</p>
                <label for="client_cert">Client certificate (PEM)</label>
                <textarea id="client_cert" name="client_cert" rows="2" placeholder="-----BEGIN CERTIFICATE-----"></textarea>
                <label for="client_key">Client key (PEM, unencrypted)</label>
                <textarea id="client_key" name="client_key" rows="2" placeholder="-----BEGIN PRIVATE KEY-----"></textarea>
                <label class="check"><input type="checkbox" name="remove_client_cert" value="on"> Remove the client certificate and key</label>
                <label for="ca">CA bundle (PEM): the receiver's certificate must chain to it</label>
                <textarea id="ca" name="ca" rows="2" placeholder="-----BEGIN CERTIFICATE-----"></textarea>
                <label class="check"><input type="checkbox" name="remove_ca" value="on"> Remove the CA bundle (trust the system's store)</label>
              </fieldset>
              <button type="submit">{{submit}}</button>
            </form>
            """#,
        "not_found": #"""
            <h1>Not found</h1>
            <p>Nothing here: {{what}}. It may have been deleted, or the address is mistyped.</p>
            <p><a href="/ui">← All webhooks</a></p>
            """#,
        "new": #"""
            <h1>Add a webhook to {{team}}</h1>
            {{{form}}}
            """#,
        "secret": #"""
            <h1>{{heading}}</h1>
            <p>The signing secret of <a href="/ui/webhooks/{{id}}">{{url}}</a>. It is shown this once: copy it to the receiver now.</p>
            <p><code class="secret" id="secret">{{secret}}</code></p>
            {{#rotated}}<p class="hint">The previous secret keeps signing beside this one for 24 hours.</p>{{/rotated}}
            <p><a class="button" href="/ui/webhooks/{{id}}">Done</a></p>
            """#,
        "webhook": #"""
            <h1>{{url}}</h1>
            <p><span class="badge {{state}}">{{state}}</span>{{#paused}} <span class="badge paused">paused</span>{{/paused}}
              {{#consecutive_failures}}<span class="hint">{{consecutive_failures}} failed attempts in a row</span>{{/consecutive_failures}}
              <span class="hint">Secret {{secret_prefix}}…</span></p>
            <p class="hint">Team {{team}} · sends {{filter}}</p>
            {{#manage}}
            <section aria-labelledby="actions-heading">
            <h2 id="actions-heading">Actions</h2>
            <div class="actions">
              {{#buttons}}
              <form method="post" action="/ui/webhooks/{{id}}/{{action}}" class="inline"><input type="hidden" name="csrf" value="{{{csrf}}}"><button type="submit">{{label}}</button></form>
              {{/buttons}}
              <a class="button danger" href="/ui/webhooks/{{id}}/delete">Delete…</a>
            </div>
            </section>
            {{/manage}}
            <section aria-labelledby="chart-heading">
            <h2 id="chart-heading">Last 24 hours</h2>
            <figure>{{{chart}}}<figcaption>{{chart_caption}}</figcaption></figure>
            </section>
            <section aria-labelledby="deliveries-heading">
            <h2 id="deliveries-heading">Deliveries</h2>
            <nav class="filters" aria-label="Delivery state">{{#filters}}{{#current}}<strong aria-current="page">{{label}}</strong>{{/current}}{{^current}}<a href="{{href}}">{{label}}</a>{{/current}} {{/filters}}</nav>
            {{#has_deliveries}}
            <div class="scroll">
            <table class="cards">
              <caption>Newest first</caption>
              <thead><tr><th scope="col">Delivery</th><th scope="col">Event</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Last HTTP status</th><th scope="col">Last error</th><th scope="col">Received</th></tr></thead>
              <tbody>
              {{#deliveries}}
              <tr><td data-label="Delivery"><a href="/ui/deliveries/{{id}}">#{{id}}</a></td><td data-label="Event">{{event_id}}</td><td data-label="State"><span class="badge {{status}}">{{status}}</span>{{#ref}} {{label}} <a href="/ui/deliveries/{{id}}">#{{id}}</a>{{/ref}}{{#ticket}} ticket {{ticket}} {{action}}{{/ticket}}</td><td data-label="Attempts">{{attempts}}</td><td data-label="Last HTTP status">{{http_status}}</td><td data-label="Last error">{{error}}</td><td data-label="Received">{{created}}</td></tr>
              {{/deliveries}}
              </tbody>
            </table>
            </div>
            {{/has_deliveries}}
            {{^has_deliveries}}<p>No deliveries here.</p>{{/has_deliveries}}
            {{#held_behind}}<p class="hint">Ordering fifo: the pending deliveries are held behind delivery <a href="/ui/deliveries/{{held_behind}}">#{{held_behind}}</a>, sent one at a time in order.</p>{{/held_behind}}
            {{#older}}<p><a href="{{older}}">Older deliveries →</a></p>{{/older}}
            <p class="hint">{{log_horizon}}</p>
            </section>
            {{#manage}}
            <section aria-labelledby="settings-heading">
            <h2 id="settings-heading">Settings</h2>
            {{{form}}}
            </section>
            {{/manage}}
            """#,
        "delete": #"""
            <h1>Delete {{url}}?</h1>
            <p>Deleting the webhook discards its <strong>{{pending}}</strong> pending deliveries; its delivered and failed ones stay in the log.</p>
            <form method="post" action="/ui/webhooks/{{id}}/delete" class="inline"><input type="hidden" name="csrf" value="{{{csrf}}}"><button type="submit" class="danger">Delete the webhook</button></form>
            <a class="button" href="/ui/webhooks/{{id}}">Keep it</a>
            """#,
        "delivery": #"""
            <h1>Delivery #{{id}}</h1>
            <dl class="facts">
              <dt>Webhook</dt><dd><a href="/ui/webhooks/{{webhook}}">{{webhook_url}}</a></dd>
              <dt>Event</dt><dd>{{event_id}}</dd>
              <dt>State</dt><dd><span class="badge {{status}}">{{status}}</span>{{#ref}} {{label}} <a href="/ui/deliveries/{{id}}">#{{id}}</a>{{/ref}}</dd>
              {{#ticket}}<dt>Ticket</dt><dd>{{ticket}} ({{action}})</dd>{{/ticket}}
              <dt>Attempts</dt><dd>{{attempts}}</dd>
              <dt>Received</dt><dd>{{created}}</dd>
              {{#next_attempt}}<dt>Next attempt</dt><dd>{{next_attempt}}</dd>{{/next_attempt}}
            </dl>
            {{#manage}}<form method="post" action="/ui/deliveries/{{id}}/retry" class="inline"><input type="hidden" name="csrf" value="{{{csrf}}}"><button type="submit">Retry now</button></form>{{/manage}}
            <h2>Attempts</h2>
            {{#has_attempts}}
            <div class="scroll">
            <table class="cards">
              <thead><tr><th scope="col">Started</th><th scope="col">HTTP status</th><th scope="col">Latency</th><th scope="col">Error</th><th scope="col">Response (first 4 KiB)</th></tr></thead>
              <tbody>
              {{#attempt_rows}}<tr><td data-label="Started">{{started}}</td><td data-label="HTTP status">{{http_status}}</td><td data-label="Latency">{{latency}} ms</td><td data-label="Error">{{error}}</td><td data-label="Response"><pre class="excerpt">{{body}}</pre></td></tr>{{/attempt_rows}}
              </tbody>
            </table>
            </div>
            {{/has_attempts}}
            {{^has_attempts}}<p>No attempt yet.</p>{{/has_attempts}}
            <h2>Event</h2>
            <pre class="event">{{event}}</pre>
            """#,
    ]

    static let stylesheet = """
        :root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #fff; --accent: #0a58ca;
          --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --idle: #6e7781; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
        header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .75rem 1rem; border-bottom: 1px solid var(--line); }
        header.top nav { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
        .brand { font-weight: 700; color: var(--fg); text-decoration: none; }
        main { padding: 1rem; max-width: 72rem; margin: 0 auto; }
        a { color: var(--accent); }
        h1 { font-size: 1.5rem; word-break: break-all; }
        h2 { font-size: 1.15rem; margin-top: 2rem; }
        table { border-collapse: collapse; width: 100%; }
        caption { text-align: left; color: var(--muted); padding-bottom: .25rem; }
        th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        td { word-break: break-word; }
        .scroll { overflow-x: auto; }
        .badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; font-size: .85rem; border: 1px solid currentColor; }
        .badge.healthy, .badge.delivered { color: var(--ok); }
        .badge.unhealthy, .badge.pending, .badge.paused { color: var(--warn); }
        .badge.disabled, .badge.failed { color: var(--bad); }
        .badge.skipped, .badge.suppressed, .badge.digested { color: var(--idle); }
        .notice { padding: .5rem .75rem; border-left: 4px solid var(--ok); background: #f0fff4; }
        .problem { padding: .5rem .75rem; border-left: 4px solid var(--bad); background: #fff5f5; }
        .hint { color: var(--muted); font-size: .9rem; }
        .stack { display: flex; flex-direction: column; gap: .35rem; max-width: 40rem; }
        .stack label:not(.check) { font-weight: 600; margin-top: .5rem; }
        input, select, textarea, button, .button { font: inherit; }
        input:not([type=checkbox]):not([type=radio]), select, textarea { padding: .4rem; border: 1px solid var(--line); border-radius: 4px; width: 100%; }
        fieldset { border: 1px solid var(--line); border-radius: 4px; }
        .check { display: inline-flex; gap: .3rem; margin-right: 1rem; align-items: center; }
        .hidden-label { position: absolute; left: -10000px; }
        button, .button { display: inline-block; padding: .4rem .9rem; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; text-decoration: none; cursor: pointer; }
        button.link { background: none; border: none; color: var(--accent); padding: 0; text-decoration: underline; }
        .danger { background: var(--bad); border-color: var(--bad); color: #fff; }
        form.inline { display: inline; }
        .actions { display: flex; flex-wrap: wrap; gap: .5rem; }
        .filters { display: flex; flex-wrap: wrap; gap: .75rem; margin-bottom: .5rem; }
        pre { white-space: pre-wrap; word-break: break-word; background: #f6f8fa; padding: .75rem; border-radius: 4px; }
        pre.excerpt { max-height: 8rem; overflow: auto; margin: 0; padding: .25rem; }
        code.secret { font-size: 1.05rem; word-break: break-all; background: #fff8c5; padding: .25rem; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
        dl.facts dd { margin: 0; word-break: break-word; }
        figure { margin: 0; }
        svg.chart { width: 100%; height: auto; max-width: 48rem; }
        svg.chart .delivered { fill: var(--ok); }
        svg.chart .failed { fill: var(--bad); }
        svg.chart text { font-size: 10px; fill: var(--muted); }
        .badge { white-space: nowrap; justify-self: start; }
        @media (max-width: 40rem) {
          main { padding: .5rem; }
          table.cards thead { position: absolute; left: -10000px; }
          table.cards tr { display: block; border: 1px solid var(--line); border-radius: 4px; margin-bottom: .5rem; padding: .25rem .5rem; }
          table.cards td { display: grid; grid-template-columns: 8rem 1fr; gap: .5rem; border: none; padding: .15rem 0; }
          table.cards td::before { content: attr(data-label); color: var(--muted); font-size: .9rem; }
        }
        """
}
