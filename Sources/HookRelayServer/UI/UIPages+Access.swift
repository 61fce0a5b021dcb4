/// The templates of the teams, tokens and audit pages, and of a refused action. A token is
/// rendered in one template only, `token_made`, the page that shows it once.
extension UIPages {
    static let accessSources: [String: String] = [
        "refused": #"""
            <h1>Not allowed</h1>
            <p>Nothing was changed: {{reason}}.</p>
            <p><a href="/ui">← Webhooks</a></p>
            """#,
        "teams": #"""
            <h1>Teams</h1>
            <div class="scroll">
            <table class="cards">
              <caption>Every team; the pages show one at a time</caption>
              <thead><tr><th scope="col">Team</th><th scope="col">Name</th><th scope="col">Created</th><th scope="col">Pages</th><th scope="col">Delete</th></tr></thead>
              <tbody>
              {{#teams}}
              <tr>
                <td data-label="Team">{{id}}</td><td data-label="Name">{{name}}</td><td data-label="Created">{{created}}</td>
                <td data-label="Pages">{{#shown}}<strong>shown</strong>{{/shown}}{{^shown}}<a href="/ui?team={{id}}">Show this team</a>{{/shown}}</td>
                <td data-label="Delete">{{#deletable}}<a class="button danger" href="/ui/teams/{{id}}/delete">Delete…</a>{{/deletable}}</td>
              </tr>
              {{/teams}}
              </tbody>
            </table>
            </div>
            <h2>New team</h2>
            <form method="post" action="/ui/teams" class="stack">
              <input type="hidden" name="csrf" value="{{{csrf}}}">
              <label for="id">Id</label>
              <input id="id" name="id" required pattern="[a-z0-9_-]{1,64}" placeholder="acme">
              <p class="hint">Lowercase letters, digits, - and _, up to 64.</p>
              <label for="name">Name</label>
              <input id="name" name="name" placeholder="Acme Corp">
              <button type="submit">Create team</button>
            </form>
            """#,
        "team_delete": #"""
            <h1>Delete team {{id}}?</h1>
            <p>Deleting {{name}} deletes its tokens and its <strong>{{webhooks}}</strong> webhooks, whose pending deliveries are discarded.</p>
            <form method="post" action="/ui/teams/{{id}}/delete" class="inline"><input type="hidden" name="csrf" value="{{{csrf}}}"><button type="submit" class="danger">Delete the team</button></form>
            <a class="button" href="/ui/teams">Keep it</a>
            """#,
        "tokens": #"""
            <h1>Tokens of {{team}}</h1>
            {{#has_tokens}}
            <div class="scroll">
            <table class="cards">
              <caption>The tokens themselves are never shown again</caption>
              <thead><tr><th scope="col">Token</th><th scope="col">Role</th><th scope="col">Description</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Revoke</th></tr></thead>
              <tbody>
              {{#tokens}}
              <tr>
                <td data-label="Token">{{id}}</td><td data-label="Role">{{role}}{{#any_team}} (any team){{/any_team}}</td>
                <td data-label="Description">{{description}}</td><td data-label="Created">{{created}}</td>
                <td data-label="Last used">{{last_used}}</td><td data-label="Expires">{{expires}}</td>
                <td data-label="Revoke"><form method="post" action="/ui/tokens/{{id}}/revoke" class="inline"><input type="hidden" name="csrf" value="{{{csrf}}}"><button type="submit" class="danger">Revoke</button></form></td>
              </tr>
              {{/tokens}}
              </tbody>
            </table>
            </div>
            {{/has_tokens}}
            {{^has_tokens}}<p>No token yet.</p>{{/has_tokens}}
            <h2>New token</h2>
            <form method="post" action="/ui/tokens?team={{team}}" class="stack">
              <input type="hidden" name="csrf" value="{{{csrf}}}">
              <label for="role">Role</label>
              <select id="role" name="role">{{#roles}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/roles}}</select>
              <p class="hint">team_admin: the team's webhooks and tokens; viewer: reads them; publisher: sends events only.</p>
              <label for="description">Description</label>
              <input id="description" name="description">
              <label for="expires_at">Expires (optional): an RFC 3339 time or Unix seconds</label>
              <input id="expires_at" name="expires_at" placeholder="2027-01-31T00:00:00Z">
              {{#is_admin}}<label class="check"><input type="checkbox" name="any_team" value="1"> A publisher that may send to any team</label>{{/is_admin}}
              <button type="submit">Make token</button>
            </form>
            """#,
        "token_made": #"""
            <h1>Token made</h1>
            <p>The {{role}} token {{id}} of team {{team}}. It is shown this once: copy it now.</p>
            <p><code class="secret" id="token">{{token}}</code></p>
            <p><a class="button" href="/ui/tokens">Done</a></p>
            """#,
        "audit": #"""
            <h1>Audit of {{team}}</h1>
            {{#has_entries}}
            <div class="scroll">
            <table class="cards">
              <caption>Every change, newest first</caption>
              <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Object</th><th scope="col">Action</th><th scope="col">Detail</th></tr></thead>
              <tbody>
              {{#entries}}
              <tr><td data-label="When">{{at}}</td><td data-label="Who">{{actor}} ({{role}})</td><td data-label="Object">{{object}} {{object_id}}</td><td data-label="Action">{{action}}</td><td data-label="Detail"><code>{{detail}}</code></td></tr>
              {{/entries}}
              </tbody>
            </table>
            </div>
            {{/has_entries}}
            {{^has_entries}}<p>No change recorded yet.</p>{{/has_entries}}
            {{#older}}<p><a href="{{older}}">Older entries →</a></p>{{/older}}
            """#,
    ]
}
