import Testing
@testable import HookRelayCore

@Suite struct HeaderFieldTests {
    /// Reserved names in every spelling a receiver or proxy may read as them.
    @Test(arguments: [
        "Host", "HOST", "host", "Content-Length", "Transfer-Encoding", "Transfer_Encoding", "transfer_encoding", "TE", "Trailer",
        "Upgrade", "Expect", "Content-Encoding", "Connection", "Keep-Alive", "Proxy-Connection", "webhook-signature",
        "webhook_signature", "Webhook-Id", "WEBHOOK_TIMESTAMP", "User-Agent", "Content-Type", "X-Hub-Signature-256",
    ])
    func reservedNamesAreRefusedInAnySpelling(_ name: String) {
        #expect(throws: HeaderField.Problem.reserved(name: name)) { try HeaderField.validate([(name, "x")]) }
    }

    /// Not RFC 9110 tokens: look-alike letters (the long s of `Hoſt`, Cyrillic `о`), spaces, separators.
    @Test(arguments: ["Hoſt", "Hоst", "X Team", "X-Team:", "X(Team)", "X\"A", "X\u{0}A", "X\r\nA", "X\tA", "é", "X@A", "X,A", "X/A"])
    func nonTokenNamesAreRefused(_ name: String) {
        #expect(throws: HeaderField.Problem.notToken(name: name)) { try HeaderField.validate([(name, "x")]) }
    }

    @Test(arguments: ["a\r\nX-Injected: yes", "a\nb", "a\rb", "a\u{0}b", "a\u{1b}[31mb", "a\u{7f}"])
    func controlCharactersInValuesAreRefused(_ value: String) {
        #expect(throws: HeaderField.Problem.controlCharacter(name: "X-Team")) { try HeaderField.validate([("X-Team", value)]) }
    }

    @Test func tokensTabsAndTextAreAccepted() throws {
        try HeaderField.validate([("X-Team", "app sec\tteam"), ("x-api-key!#$%&'*+.^`|~", "k"), ("X-Free_Name", "café ✓"), ("A", "")])
    }

    @Test func theNumberAndSizeOfHeadersAreCapped() throws {
        try HeaderField.validate((0..<32).map { ("X-H\($0)", "v") })
        #expect(throws: HeaderField.Problem.tooMany(count: 33)) { try HeaderField.validate((0..<33).map { ("X-H\($0)", "v") }) }
        try HeaderField.validate([("X-A", String(repeating: "a", count: 8192 - 7))])
        #expect(throws: HeaderField.Problem.tooLarge(bytes: 8193)) {
            try HeaderField.validate([("X-A", String(repeating: "a", count: 8192 - 6))])
        }
    }

    @Test func aNameGivenTwiceInAnySpellingIsRefused() {
        #expect(throws: HeaderField.Problem.duplicate(name: "x_team")) { try HeaderField.validate([("X-Team", "a"), ("x_team", "b")]) }
    }

    @Test func sensitiveValuesAreMasked() {
        for name in ["Authorization", "proxy-authorization", "Cookie", "X-Api-Key", "X-Auth-Token", "X-Client-Secret", "Private_Key", "X-Password"] {
            #expect(HeaderField.isSensitive(name), "\(name)")
        }
        #expect(!HeaderField.isSensitive("X-Team"))
        #expect(HeaderField.masked(name: "Authorization", value: "Bearer abcdefghijklmnopqrstuvwxyz") == "****yz")
        #expect(HeaderField.masked(name: "X-Api-Key", value: "short") == "****")
        #expect(HeaderField.masked(name: "X-Team", value: "appsec") == "appsec")
        #expect(HeaderField.isMask("****yz") && HeaderField.isMask("****") && !HeaderField.isMask("****secret-value"))
    }

    @Test func linesParseAsNameAndTrimmedValue() throws {
        let parsed = try #require(HeaderField.parse(line: " X-Team :\t appsec: team \t"))
        #expect(parsed.name == "X-Team" && parsed.value == "appsec: team")
        #expect(HeaderField.parse(line: "no colon") == nil)
    }

    /// The lines of `--header` (deliver, webhooks add|update) and of the web page's field: one
    /// reading, then the checks of ``HeaderField/validate(_:)``, so each mistake has one message.
    @Test func linesAreParsedAndCheckedTogether() throws {
        let parsed = try HeaderField.parseLines(["X-Team: appsec", " X-Token :${TOKEN} "])
        #expect(parsed.map(\.name) == ["X-Team", "X-Token"] && parsed.map(\.value) == ["appsec", "${TOKEN}"])
        #expect(try HeaderField.parseLines([]).isEmpty)
        #expect(throws: HeaderField.Problem.malformedLine(line: "no colon")) { try HeaderField.parseLines(["X-A: b", "no colon"]) }
        #expect(throws: HeaderField.Problem.duplicate(name: "x_team")) { try HeaderField.parseLines(["X-Team: a", "x_team: b"]) }
        #expect(throws: HeaderField.Problem.reserved(name: "Host")) { try HeaderField.parseLines(["Host: evil.example"]) }
        #expect(throws: HeaderField.Problem.emptyName) { try HeaderField.parseLines([": value"]) }
        #expect(throws: HeaderField.Problem.tooMany(count: 33)) { try HeaderField.parseLines((0..<33).map { "X-H\($0): v" }) }
    }

    @Test func theMessagesOfLineMistakes() {
        #expect(HeaderField.Problem.malformedLine(line: "no colon").description == "header line 'no colon' needs the form 'Name: value'")
        #expect(HeaderField.Problem.malformedLine(line: "a\u{1b}[2Jb").description == "header line 'a\\u{1b}[2Jb' needs the form 'Name: value'")
        #expect(HeaderField.Problem.duplicate(name: "x_team").description == "header x_team is given twice")
    }

    @Test func storedTextRefusesControlCharacters() {
        #expect(StoredText.isClean("a\tb é ✓"))
        for bad in ["a\u{0}b", "a\nb", "a\rb", "\u{1b}[2J", "a\u{85}b", "a\u{9b}b", "a\u{7f}"] {
            #expect(!StoredText.isClean(bad), "\(bad.unicodeScalars.map(\.value))")
        }
        #expect(StoredText.isClean("a\nb", allowing: ["\n"]))
    }

    @Test func printableEscapesTerminalControls() {
        #expect(JSONString.printable("plain café") == "plain café")
        #expect(JSONString.printable("a\u{1b}[31mred\u{7}\n") == "a\\u{1b}[31mred\\u{7}\\n")
        #expect(JSONString.printable("\u{9b}2J\u{2028}") == "\\u{9b}2J\\u{2028}")
    }

    /// A value can neither end its field nor its line: what follows is still inside the quotes.
    @Test func logfmtQuotesEveryValueThatCouldForgeAField() {
        #expect(JSONString.logfmt("wh_123") == "wh_123")
        #expect(JSONString.logfmt("") == "\"\"")
        #expect(JSONString.logfmt("https://x/a b level=error forged=1") == #""https://x/a b level=error forged=1""#)
        #expect(JSONString.logfmt("a\"b\\c") == #""a\"b\\c""#)
        #expect(JSONString.logfmt("x\r\n2026-01-01T00:00:00Z error forged") == #""x\r\n2026-01-01T00:00:00Z error forged""#)
    }
}
