import Foundation
import Testing

/// The web page's answers read over plain HTTP (the browser test drives the whole flow): what a
/// new user ran into (issue 13).
@Suite struct WebPageHTTPTests {
    /// Logs in with the API token; the session keeps the cookie.
    static func logIn(_ server: ServeProcess) async throws {
        let token = try #require(server.token).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let login = try await server.request(
            "POST", "/ui/login", body: Data("token=\(token)".utf8), contentType: "application/x-www-form-urlencoded",
            authorization: .some(nil))
        try #require(login.status == 200, "login: \(login.status) \(login.text)")
    }

    static func csrf(in html: String) throws -> String {
        let match = try #require(html.firstMatch(of: #/name="csrf" value="([^"]+)"/#), "no CSRF token in the page")
        return String(match.output.1)
    }

    @Test func unknownAddressesAnswerAnHTMLPageAndTheOlderLinkOnlyWhenThereIsAnOlderPage() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        let webhook = try await server.createWebhook(receiver)
        try await Self.logIn(server)

        for path in ["/ui/webhooks/wh_nope", "/ui/webhooks/nil", "/ui/no/such/page", "/ui/deliveries/999999"] {
            let page = try await server.request("GET", path, authorization: .some(nil))
            #expect(page.status == 404, "\(path): \(page.status)")
            #expect(page.text.contains("<h1>Not found</h1>") && !page.text.hasPrefix("{"), "\(path): \(page.text.prefix(200))")
        }

        // 25 deliveries fill the first page exactly: no link to an empty older one.
        #expect(try await server.postEvents((0..<25).map { #"{"event_type":"finding","id":"p-\#($0)"}"# }).status == 202)
        _ = try await Serve.waitFor(receiver, 25)
        let first = try await server.request("GET", "/ui/webhooks/\(webhook.id)", authorization: .some(nil))
        #expect(first.status == 200)
        #expect(!first.text.contains("Older deliveries") && !first.text.contains("nil"), "\(first.text)")
        #expect(try await server.postEvent(#"{"event_type":"finding","id":"p-25"}"#).status == 202)
        _ = try await Serve.waitFor(receiver, 26)
        let full = try await server.request("GET", "/ui/webhooks/\(webhook.id)", authorization: .some(nil))
        let older = try #require(full.text.firstMatch(of: #/href="([^"]*cursor=\d+)">Older deliveries/#), "\(full.text)")
        let second = try await server.request("GET", String(older.output.1), authorization: .some(nil))
        #expect(second.status == 200 && !second.text.contains("Older deliveries"))
        // The chart labels the current hour.
        #expect(full.text.contains(">now</text>"))
    }

    @Test func aRefusedAddKeepsWhatWasTyped() async throws {
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        try await Self.logIn(server)
        let form = try await server.request("GET", "/ui/webhooks/new", authorization: .some(nil))
        let csrf = try Self.csrf(in: form.text)
        let fields = [
            ("csrf", csrf), ("url", "http://127.0.0.1:65536/x"), ("description", "SOC team <night>"), ("severity_mode", "min"),
            ("min_severity", "critical"), ("headers", "X-Team: appsec"), ("template", "slack"), ("event[]", "finding"),
        ]
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        let refused = try await server.request(
            "POST", "/ui/webhooks", body: Data(body.utf8), contentType: "application/x-www-form-urlencoded", authorization: .some(nil))
        #expect(refused.status == 422, "\(refused.status)")
        #expect(refused.text.contains("from 1 to 65535"), "the reason is shown")
        #expect(refused.text.contains(#"value="http://127.0.0.1:65536/x""#))
        #expect(refused.text.contains("SOC team &lt;night&gt;"))
        #expect(refused.text.contains("X-Team: appsec"))
        #expect(refused.text.contains(#"<option value="critical" selected>"#))
        #expect(refused.text.contains(#"<option value="slack" selected>"#))
        #expect(refused.text.contains(#"value="finding" checked"#))
    }

    /// One reading and check of header lines (`HeaderField.parseLines`): the same mistake gets
    /// the same message from `deliver --header`, `webhooks add --header`, the API and the web page,
    /// each after the name of what was given (`--header`, the field `"headers"`).
    @Test func aHeaderMistakeHasTheSameMessageEverywhere() async throws {
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        try await Self.logIn(server)
        // The API takes a JSON object: it has no lines, and no name twice in one spelling. The
        // admin command's statuses stay as its man page gives them: 64 a bad flag, 65 a setting
        // the API's checks refuse.
        let mistakes: [(lines: [String], message: String, api: Bool, addStatus: Int32)] = [
            (["X-Team: a", "x_team: b"], "header x_team is given twice", true, 64),
            (["X-Team: a", "X-Team: b"], "header X-Team is given twice", false, 64),
            (["Host: a.example"], "hookrelay sets the Host header itself (or it changes how the request is framed); remove it", true, 65),
            (["X-Team: a", "no colon"], "header line 'no colon' needs the form 'Name: value'", false, 64),
        ]
        for (lines, message, api, addStatus) in mistakes {
            let flags = lines.flatMap { ["--header", $0] }
            let deliver = try Deliver.run(["deliver", "--url", "http://127.0.0.1:9/x", "--allow-http"] + flags)
            #expect(deliver.status == 64 && deliver.stderr.contains("--header: \(message)\n"), "\(deliver.stderr)")
            let add = try await AdminCommandTests.run(["webhooks", "add", "--create", "--url", "https://a.example/"] + flags, db: server.database)
            #expect(add.status == addStatus && add.stderr.contains("--header: \(message)\n"), "\(add.stderr)")

            let form = try await server.request("GET", "/ui/webhooks/new", authorization: .some(nil))
            let fields = [("csrf", try Self.csrf(in: form.text)), ("url", "https://a.example/"), ("headers", lines.joined(separator: "\r\n"))]
            let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
            let page = try await server.request(
                "POST", "/ui/webhooks", body: Data(body.utf8), contentType: "application/x-www-form-urlencoded", authorization: .some(nil))
            let shown = ["&quot;": "\"", "&#39;": "'", "&#x27;": "'", "&#34;": "\"", "&amp;": "&"].reduce(page.text) {
                $0.replacingOccurrences(of: $1.key, with: $1.value)
            }
            #expect(page.status == 422 && shown.contains("\"headers\": \(message)"), "\(page.status) \(shown)")

            guard api else { continue }
            let headers = Dictionary(uniqueKeysWithValues: lines.map { line in
                let colon = line.firstIndex(of: ":")!
                return (String(line[..<colon]), String(line[line.index(after: colon)...]))
            })
            let answer = try await server.post("/v1/webhooks", json: ["url": "https://a.example/", "headers": headers])
            #expect(answer.status == 422 && answer.errorMessage == "\"headers\": \(message)", "\(answer.status) \(answer.text)")
        }
    }
}
