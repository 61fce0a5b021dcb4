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
    private let template: MustacheTemplate?
    private let variables: [String: String]
    private let limits: TemplateContext.Limits

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The built-in templates, by name.
    public static let builtinNames = ["raw"] + BuiltinTemplates.sources.keys.sorted()

    /// A built-in template by name, or a template file (a path holding a `/` or ending in
    /// `.mustache`). `variables` are the `--template-var` values, `{{vars.NAME}}` in the template.
    public init(_ nameOrPath: String, variables: [String: String] = [:]) throws {
        self.variables = variables
        name = nameOrPath
        limits = BuiltinTemplates.limits[nameOrPath] ?? TemplateContext.Limits()
        let source: String
        if nameOrPath == "raw" {
            template = nil
            return
        } else if let builtin = BuiltinTemplates.sources[nameOrPath] {
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
        Self.registerContentType
        do {
            template = try MustacheTemplate(string: "{{% CONTENT_TYPE: JSON }}" + source)
        } catch {
            throw Problem(description: "template \(nameOrPath) is not valid Mustache: \(error)")
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
}

/// `{{value}}` escapes for the inside of a JSON string; `<`, `>` and `&` too, so the body is
/// also safe to embed in HTML.
struct JSONStringContent: MustacheContentType {
    func escapeText(_ text: String) -> String {
        JSONString.escape(text, htmlSafe: true)
    }
}
