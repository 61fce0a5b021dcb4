import Foundation
import Testing

/// The hand-written man pages in man/ against the binary's `--help`: every option the help lists
/// is documented under OPTIONS, every option documented there exists, and the root page names
/// every subcommand.
@Suite struct ManPageTests {
    /// Each subcommand (none for the root command) and its page in man/.
    static let pages: [([String], String)] = [
        ([], "hookrelay.1"),
        (["filter"], "hookrelay-filter.1"),
        (["deliver"], "hookrelay-deliver.1"),
        (["serve"], "hookrelay-serve.1"),
        (["webhooks"], "hookrelay-webhooks.1"),
        (["deliveries"], "hookrelay-deliveries.1"),
        (["match"], "hookrelay-match.1"),
        (["teams"], "hookrelay-teams.1"),
        (["tokens"], "hookrelay-tokens.1"),
        (["audit"], "hookrelay-audit.1"),
        (["render"], "hookrelay-render.1"),
        (["sign"], "hookrelay-sign.1"),
        (["verify"], "hookrelay-verify.1"),
        (["receive"], "hookrelay-receive.1"),
    ]

    static let manDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Tests/EndToEndTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()
        .appendingPathComponent("man")

    static func page(_ name: String) throws -> String {
        try String(contentsOf: manDirectory.appendingPathComponent(name), encoding: .utf8)
    }

    static func help(_ subcommand: [String]) throws -> String {
        let result = try HookRelayProcess.run(subcommand + ["--help"])
        #expect(result.status == 0, "\(result.stderr)")
        return result.output
    }

    /// The options of a command's help; for a group of commands (`webhooks`), of every one of
    /// its commands' too, since one page documents them all.
    static func allHelpOptions(_ subcommand: [String]) throws -> Set<String> {
        let help = try help(subcommand)
        var options = helpOptions(help)
        guard !subcommand.isEmpty else { return options }
        for child in helpSubcommands(help) { options.formUnion(helpOptions(try self.help(subcommand + [child]))) }
        return options
    }

    /// The long options of the help's option entries: lines indented by exactly two spaces that
    /// start with `-`, such as `  -h, --help` or `  --event <type>   Keep events…`. Options that
    /// the discussion merely mentions (`hookrelay deliver --url URL`) are not entries.
    static func helpOptions(_ help: String) -> Set<String> {
        var options: Set<String> = []
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix("  -") else { continue }
            // The names end where the description starts, after a run of spaces.
            let names = line.dropFirst(2).components(separatedBy: "  ")[0]
            for match in names.matches(of: #/--[A-Za-z0-9][A-Za-z0-9-]*/#) { options.insert(String(match.output)) }
        }
        return options
    }

    /// The subcommands listed under `SUBCOMMANDS:` in the help, without `help`.
    static func helpSubcommands(_ help: String) -> Set<String> {
        var subcommands: Set<String> = []
        var inSection = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" "), !line.isEmpty { inSection = line == "SUBCOMMANDS:" }
            guard inSection, let match = line.wholeMatch(of: #/  ([a-z][a-z0-9-]*)(\s.*)?/#) else { continue }
            subcommands.insert(String(match.output.1))
        }
        subcommands.remove("help")
        return subcommands
    }

    /// The lines of the section `.SH name`, up to the next `.SH`.
    static func section(_ name: String, of page: String) -> [Substring] {
        var lines: [Substring] = []
        var inSection = false
        for line in page.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(".SH") {
                let title = line.dropFirst(3).trimmingCharacters(in: .whitespaces)
                inSection = title.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) == name
                continue
            }
            if inSection { lines.append(line) }
        }
        return lines
    }

    /// The tag lines of a section's `.TP` items: the first line after each `.TP` that is not a comment.
    static func itemTags(_ lines: [Substring]) -> [Substring] {
        var tags: [Substring] = []
        var expectingTag = false
        for line in lines {
            if line.hasPrefix(".\\\"") { continue }
            if line == ".TP" || line.hasPrefix(".TP ") {
                expectingTag = true
            } else if expectingTag {
                tags.append(line)
                expectingTag = false
            }
        }
        return tags
    }

    /// The long options written in roff as `\-\-name` in `text`, as `--name`.
    static func roffOptions(_ text: Substring) -> Set<String> {
        Set(text.matches(of: #/\\-\\-[A-Za-z0-9]+(?:\\-[A-Za-z0-9]+)*/#).map {
            $0.output.replacingOccurrences(of: "\\-", with: "-")
        })
    }

    /// The options documented as items of the page's OPTIONS section.
    static func documentedOptions(_ page: String) -> Set<String> {
        itemTags(section("OPTIONS", of: page)).reduce(into: []) { $0.formUnion(roffOptions($1)) }
    }

    @Test(arguments: pages)
    func optionsMatchTheHelp(_ subcommand: [String], _ name: String) throws {
        let command = (["hookrelay"] + subcommand).joined(separator: " ")
        let page = try Self.page(name)
        let inHelp = try Self.allHelpOptions(subcommand)
        let documented = Self.documentedOptions(page)
        // Guard against a parser that finds nothing, which would make both checks pass.
        #expect(inHelp.contains("--help") && inHelp.contains("--version"), "options found in the help: \(inHelp.sorted())")
        #expect(documented.contains("--help"), "options found under OPTIONS in \(name): \(documented.sorted())")

        for option in inHelp.sorted() {
            let roff = option.replacingOccurrences(of: "-", with: "\\-")
            #expect(page.contains(roff), "\(name) never mentions \(roff), an option of `\(command) --help`")
            #expect(documented.contains(option), "\(name) has no OPTIONS item for \(option), an option of `\(command) --help`")
        }
        for option in documented.subtracting(inHelp).sorted() {
            Issue.record("\(name) documents \(option) under OPTIONS, but `\(command) --help` has no such option")
        }
    }

    @Test(arguments: pages)
    func titleNamesThePage(_ subcommand: [String], _ name: String) throws {
        let page = try Self.page(name)
        let title = (["hookrelay"] + subcommand).joined(separator: "\\-").uppercased()
        #expect(page.contains("\n.TH \(title) 1 "), "\(name) should start with .TH \(title) 1")
    }

    /// A page of a group of commands has a COMMANDS item for each, with its synopsis.
    @Test(arguments: pages.filter { !$0.0.isEmpty })
    func groupPageNamesEveryCommand(_ subcommand: [String], _ name: String) throws {
        let children = Self.helpSubcommands(try Self.help(subcommand))
        let page = try Self.page(name)
        let tags = Self.itemTags(Self.section("COMMANDS", of: page)).map { tag in
            tag.replacing(#/\\f[BIRP]/#, with: "").replacingOccurrences(of: "\\-", with: "-")
        }
        let synopsis = Self.section("SYNOPSIS", of: page).joined(separator: "\n").replacingOccurrences(of: "\\-", with: "-")
        for child in children.sorted() {
            #expect(
                tags.contains { $0.split(whereSeparator: { " \"".contains($0) }).contains { $0 == child } },
                "\(name) has no COMMANDS item for `\(child)`, a command of `hookrelay \(subcommand.joined(separator: " ")) --help`")
            #expect(synopsis.contains(child), "\(name) has no SYNOPSIS line for `\(child)`")
        }
        #expect(
            children.isEmpty == Self.section("COMMANDS", of: page).isEmpty,
            "\(name): a page has a COMMANDS section exactly when its command has commands; found \(children.sorted())")
    }

    @Test func rootPageNamesEverySubcommand() throws {
        let subcommands = Self.helpSubcommands(try Self.help([]))
        #expect(subcommands.contains("filter"), "subcommands found in the help: \(subcommands.sorted())")
        let page = try Self.page("hookrelay.1")
        let commandTags = Self.itemTags(Self.section("COMMANDS", of: page)).map { tag in
            tag.replacing(#/\\f[BIRP]/#, with: "").replacingOccurrences(of: "\\-", with: "-")
        }
        let seeAlso = Self.section("SEE ALSO", of: page).joined(separator: "\n")
        for subcommand in subcommands.sorted() {
            let named = commandTags.contains { tag in
                tag.split(whereSeparator: { " \"".contains($0) }).contains { $0 == subcommand }
            }
            #expect(named, "hookrelay.1 has no COMMANDS item for `\(subcommand)`, a subcommand in `hookrelay --help`")
            #expect(
                seeAlso.contains("hookrelay\\-\(subcommand) (1)"),
                "hookrelay.1 should list hookrelay-\(subcommand)(1) under SEE ALSO")
        }
    }
}
