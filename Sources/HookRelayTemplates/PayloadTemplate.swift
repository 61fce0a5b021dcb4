import Foundation
import HookRelayCore
import Mustache

/// What a webhook receives for an event: the event's own bytes (`raw`), or the event rendered
/// through a Mustache template into the JSON body a chat or ticketing target expects.
///
/// Values are inserted JSON-string escaped (`{{title}}` inside a JSON string can never end it
/// or add a field), and the rendered body must be valid JSON, or the event is not sent.
public struct PayloadTemplate: Sendable {
    public let name: String
    let template: MustacheTemplate?
    let variables: [String: String]
    private let limits: TemplateContext.Limits

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The built-in templates a webhook, `deliver` or `render` takes, by name: not the ticket
    /// steps' comment and close bodies (``BuiltinTemplates/ticketSteps``), which only a ticket
    /// webhook's later occurrences use.
    public static let builtinNames = ["raw"] + BuiltinTemplates.sources.keys.filter { !BuiltinTemplates.ticketSteps.contains($0) }.sorted()

    /// A built-in template by name, or a template file (a path holding a `/` or ending in
    /// `.mustache`). `variables` are the `--template-var` values, `{{vars.NAME}}` in the template.
    /// `isTicketStep` also takes the ticket steps' built-in bodies (TicketTracker).
    public init(_ nameOrPath: String, variables: [String: String] = [:], isTicketStep: Bool = false) throws {
        let source: String
        if nameOrPath == "raw" {
            self.init(raw: variables)
            return
        } else if let builtin = BuiltinTemplates.sources[nameOrPath], Self.builtinNames.contains(nameOrPath) || isTicketStep {
            for required in BuiltinTemplates.requiredVariables[nameOrPath] ?? [] where variables[required] == nil {
                throw Problem(description: "template \(nameOrPath) needs --template-var \(required)=VALUE (\(BuiltinTemplates.variableHelp[required] ?? required))")
            }
            source = builtin
        } else if nameOrPath.contains("/") || nameOrPath.hasSuffix(".mustache") {
            guard let data = FileManager.default.contents(atPath: nameOrPath) else {
                throw Problem(description: "cannot read the template file \(nameOrPath)")
            }
            source = String(decoding: data, as: UTF8.self)
        } else {
            throw Problem(description: "no template named \(nameOrPath); the built-in ones are \(Self.builtinNames.joined(separator: ", ")), or give a file path")
        }
        try self.init(source: source, name: nameOrPath, variables: variables)
    }

    /// The event's own bytes.
    private init(raw variables: [String: String]) {
        self.variables = variables
        name = "raw"
        limits = TemplateContext.Limits()
        template = nil
    }

    /// A template from its Mustache `source` (a webhook's own comment or close of a ticket,
    /// given inline); `name` is what messages call it.
    public init(source: String, name nameOrPath: String, variables: [String: String] = [:]) throws {
        self.variables = variables
        name = nameOrPath
        limits = BuiltinTemplates.limits[nameOrPath] ?? TemplateContext.Limits()
        Self.registerContentType
        do {
            // The pragma on a line of its own (a standalone tag renders nothing), so the
            // template's own lines keep their numbers, one after it.
            template = try MustacheTemplate(string: "{{% CONTENT_TYPE: JSON }}\n" + source)
        } catch let error as MustacheTemplate.ParserError {
            throw Problem(description: "\(nameOrPath):\(max(1, error.context.lineNumber - 1)):\(error.context.columnNumber): "
                + "\(Self.explain(error.error)); the template is not valid Mustache")
        } catch {
            throw Problem(description: "template \(nameOrPath) is not valid Mustache: \(error)")
        }
        if BuiltinTemplates.sources[nameOrPath] == nil {
            // `{{vars.x}}` without a value would render as nothing, silently.
            for (variable, line) in Self.interpolatedVariables(in: source) where variables[variable] == nil {
                throw Problem(description: "\(nameOrPath):\(line): {{vars.\(variable)}} has no value; give --template-var \(variable)=VALUE "
                    + "(or use {{#vars.\(variable)}}...{{/vars.\(variable)}} for an optional one)")
            }
        }
    }

    /// The `vars.NAME` a template inserts as values outside a `{{#vars.NAME}}` section of the
    /// same name (which makes it optional), with the line of the first such use.
    static func interpolatedVariables(in source: String) -> [(name: String, line: Int)] {
        var found: [(String, Int)] = []
        var seen: Set<String> = []
        var sections: [String] = []
        for (index, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = line[...]
            while let open = rest.range(of: "{{") {
                rest = rest[open.upperBound...]
                guard let close = rest.range(of: "}}") else { break }
                var tag = rest[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
                rest = rest[close.upperBound...]
                switch tag.first {
                case "#", "^": sections.append(tag.dropFirst().trimmingCharacters(in: .whitespaces)); continue
                case "/": _ = sections.popLast(); continue
                case "{", "&": tag = tag.dropFirst().trimmingCharacters(in: .whitespaces)
                default: break
                }
                guard tag.hasPrefix("vars."), !sections.contains(tag), seen.insert(tag).inserted else { continue }
                found.append((String(tag.dropFirst(5)), index + 1))
            }
        }
        return found
    }

    static func explain(_ error: any Error) -> String {
        guard let error = error as? MustacheTemplate.Error else { return "\(error)" }
        switch error {
        case .sectionCloseNameIncorrect: return "{{/name}} closes a section that was not the last one opened"
        case .unfinishedName: return "a tag is not closed with }}"
        case .expectedSectionEnd: return "a section ({{#name}} or {{^name}}) is not closed with {{/name}}"
        case .invalidSetDelimiter: return "a set-delimiter tag ({{=<% %>=}}) is malformed"
        case .invalidConfigVariableSyntax, .unrecognisedConfigVariable: return "a {{% ... }} pragma is not one hookrelay knows"
        default: return "\(error)"
        }
    }

    /// Whether the event is sent as it is.
    public var isRaw: Bool { template == nil }

    /// The body to send for `event` (a JSON object's bytes).
    public func render(_ event: [UInt8], layout: EventLayout = EventLayout()) throws -> [UInt8] {
        guard let template else { return event }
        let context = try TemplateContext.make(event: event, layout: layout, variables: variables, limits: limits)
        let body = Array(template.render(context).utf8)
        let verdict = body.withUnsafeBytes { JSONScanner().validateDocument($0) }
        if case let .failure(error) = verdict {
            throw Problem(description: "template \(name) rendered a body that is not valid JSON (\(error)); not sent")
        }
        return Self.compact(body)
    }

    /// Valid JSON without the whitespace between tokens (a template's layout), on one line.
    static func compact(_ json: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(json.count)
        var inString = false
        var escaped = false
        for byte in json {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                continue
            }
            out.append(byte)
        }
        return out
    }

    private static let registerContentType: Void = {
        MustacheContentTypes.register(JSONStringContent(), named: "JSON")
    }()

    /// Registers the JSON-string escaping before a template using it is compiled.
    static func registerJSONContent() { registerContentType }
}

/// `{{value}}` escapes for the inside of a JSON string; `<`, `>` and `&` too, so the body is
/// also safe to embed in HTML.
struct JSONStringContent: MustacheContentType {
    func escapeText(_ text: String) -> String {
        JSONString.escape(text, htmlSafe: true)
    }
}
