import Foundation
import HookRelayCore
import HookRelayDelivery
import HookRelayStore
import HookRelayTemplates
import Synchronization

extension Admin {
    /// Whether a decoded JSON value is `true` or `false`: a number (1, 0) is an NSNumber that casts to Bool too.
    static func isJSONBoolean(_ value: Any) -> Bool {
        let number = value as? NSNumber
        return value is Bool && (type(of: value) == Bool.self || number.map { String(cString: $0.objCType) == "c" } == true)
    }

    /// Validates API-style fields and sets them on `webhook`; the error names the first bad one.
    public func apply(_ object: [String: Any], to webhook: inout Webhook) async throws {
        func invalid(_ message: String) -> AdminError { AdminError.invalid(message) }
        if let unknown = object.keys.sorted().first(where: { !Self.webhookFields.contains($0) }) {
            throw invalid("unknown field \"\(unknown)\"; the fields are \(Self.webhookFields.sorted().joined(separator: ", "))")
        }
        if object["min_severity"] != nil, object["severities"] != nil {
            throw invalid("give either \"min_severity\" or \"severities\", not both")
        }
        if let value = object["events"] {
            guard let events = value as? [String], events.allSatisfy({ !$0.isEmpty && StoredText.isClean($0, allowing: []) }) else {
                throw invalid("\"events\" must be an array of event types, e.g. [\"finding\"]")
            }
            webhook.events = events
        }
        if let value = object["min_severity"] {
            if value is NSNull {
                webhook.minSeverity = nil
            } else {
                guard let text = value as? String, let severity = Severity(text) else {
                    throw invalid("\"min_severity\" must be one of \(Severity.allNames)")
                }
                webhook.minSeverity = severity
                webhook.severities = []
            }
        }
        if let value = object["severities"] {
            guard let texts = value as? [String], let severities = Optional(texts.compactMap(Severity.init)), severities.count == texts.count else {
                throw invalid("\"severities\" must be an array of \(Severity.allNames)")
            }
            webhook.severities = severities
            webhook.minSeverity = nil
        }
        if let value = object["description"] {
            guard let text = value as? String else { throw invalid("\"description\" must be a string") }
            guard StoredText.isClean(text) else {
                throw invalid("\"description\" holds a control character (NUL, ESC, CR, LF, ...); give one line of text")
            }
            guard text.count <= 1000 else { throw invalid("\"description\" is longer than 1000 characters") }
            webhook.description = text
        }
        if let value = object["headers"] {
            guard let given = value as? [String: String] else { throw invalid("\"headers\" must be an object of strings") }
            var headers: [String: String] = [:]
            for (name, text) in given {
                // A masked value given back (the form or a client echoing what it was shown) keeps the stored one.
                if HeaderField.isSensitive(name), HeaderField.isMask(text) {
                    guard let stored = webhook.headers.first(where: { $0.key.lowercased() == name.lowercased() })?.value else {
                        throw invalid("header \(name): give its value; \"\(text)\" only stands for a value already stored")
                    }
                    headers[name] = stored
                } else {
                    headers[name] = text
                }
            }
            do {
                try HeaderField.validate(headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
            } catch {
                throw invalid("\"headers\": \(error)")
            }
            webhook.headers = headers
        }
        if let value = object["secret"] {
            guard let text = value as? String else { throw invalid("\"secret\" must be a string (whsec_<base64>)") }
            do {
                webhook.secrets = [try WebhookSecret(text).text]
                webhook.previousSecretUntil = nil
            } catch {
                throw invalid("\"secret\": \(error)")
            }
        }
        if let value = object["template"] {
            guard let name = value as? String, PayloadTemplate.builtinNames.contains(name) else {
                throw invalid("\"template\" must be one of \(PayloadTemplate.builtinNames.joined(separator: ", ")) (serve takes the built-in templates only)")
            }
            webhook.template = name
        }
        if let value = object["template_vars"] {
            guard let variables = value as? [String: String] else { throw invalid("\"template_vars\" must be an object of strings") }
            if let bad = variables.sorted(by: { $0.key < $1.key }).first(where: {
                !StoredText.isClean($0.key, allowing: []) || !StoredText.isClean($0.value, allowing: ["\t", "\n"])
            }) {
                throw invalid("\"template_vars\": \(JSONString.printable(bad.key)) holds a control character (NUL, ESC, CR, ...)")
            }
            do {
                try TemplateVariables.check(variables, source: "\"template_vars\"")
            } catch {
                throw invalid(error.description)
            }
            webhook.templateVariables = variables
        }
        if let value = object["rate_limit"] {
            if value is NSNull || value as? String == "off" {
                webhook.rateLimit = nil
            } else {
                guard let text = value as? String, let rate = RateLimit(text) else {
                    throw invalid("\"rate_limit\" must be deliveries per time, such as \"1/s\", \"30/m\" or \"1000/h\" (1 to 1000000), or \"off\"")
                }
                webhook.rateLimit = rate
            }
        } else if let name = object["template"] as? String, webhook.rateLimit == nil {
            // A chat service's own limit, unless one is given: what its webhook documents.
            webhook.rateLimit = RateLimit.defaultFor(template: name)
        }
        if let value = object["ordering"] {
            guard let text = value as? String, ["none", "fifo"].contains(text) else {
                throw invalid("\"ordering\" must be \"none\" or \"fifo\" (one at a time, in the order events were stored)")
            }
            webhook.fifo = text == "fifo"
        }
        if let value = object["trace_context"] {
            guard Self.isJSONBoolean(value) else {
                throw invalid("\"trace_context\" must be true or false")
            }
            webhook.traceContext = value as? Bool == true
        }
        try applyTLS(object, to: &webhook)
        try Self.applyDedupe(object, to: &webhook)
        try applyDigest(object, to: &webhook)
        try applyTickets(object, to: &webhook)
        do {
            _ = try PayloadTemplate(webhook.template, variables: webhook.templateVariables)
        } catch {
            throw invalid("\(error)".replacingOccurrences(of: "--template-var ", with: "template_vars "))
        }
        // The URL last: it may need a DNS lookup, and every other field is checked without one.
        if let value = object["url"] {
            guard let url = value as? String else { throw invalid("\"url\" must be a string") }
            guard !url.isEmpty else { throw invalid("\"url\" must not be empty") }
            do {
                _ = try await sender.check(url)
            } catch let problem as Endpoint.Problem {
                throw invalid(problem.description)
            } catch {
                throw invalid("\(JSONString.printable(url)): \(error)")
            }
            webhook.url = url
        }
        try checkTicketURL(of: webhook)
    }
}
