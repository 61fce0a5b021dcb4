import Foundation
import HookRelayCore
import HookRelayStore
import HookRelayTemplates

/// The digest fields of a webhook (issue 19): `digest` (a window such as `"5m"`, or `"off"`),
/// `digest_bypass` (a severity sent at once, or `"none"`) and `digest_top` (titles listed, 1–20).
extension Admin {
    static let digestFields = ["digest", "digest_bypass", "digest_top"]

    /// Checks and sets the digest fields, then whether the webhook's template can send a digest.
    func applyDigest(_ object: [String: Any], to webhook: inout Webhook) throws {
        func invalid(_ message: String) -> AdminError { AdminError.invalid(message) }
        if let value = object["digest"] {
            let text = value is NSNull ? "off" : value as? String
            guard let text else { throw invalid("\"digest\" must be a duration such as \"5m\" or \"1h\", or \"off\"") }
            switch DigestSettings.window(parsing: text) {
            case let .failure(problem): throw invalid("\"digest\" \(problem.description)")
            case .success(nil): webhook.digest = nil
            case let .success(window?): webhook.digest = DigestSettings(window: window, bypass: webhook.digest?.bypass, top: webhook.digest?.top ?? DigestSettings.defaultTop)
            }
        }
        if let value = object["digest_bypass"] {
            let text = value is NSNull ? "none" : value as? String
            guard let text, text == "none" || Severity(text) != nil else {
                throw invalid("\"digest_bypass\" must be one of \(Severity.allNames), or \"none\"")
            }
            if text != "none" || webhook.digest != nil {
                guard webhook.digest != nil else { throw invalid("\"digest_bypass\" applies to a digest: give \"digest\" too, e.g. \"5m\"") }
                webhook.digest?.bypass = Severity(text)
            }
        }
        if let value = object["digest_top"] {
            guard let number = value as? NSNumber, !Self.isJSONBoolean(value), let top = Int(exactly: number.doubleValue) else {
                throw invalid("\"digest_top\" must be a whole number from 1 to 20")
            }
            if let problem = DigestSettings.checkTop(top) { throw invalid("\"digest_top\" \(problem.description)") }
            guard webhook.digest != nil else { throw invalid("\"digest_top\" applies to a digest: give \"digest\" too, e.g. \"5m\"") }
            webhook.digest?.top = top
        }
        if webhook.digest != nil, !PayloadTemplate.sendsDigests(webhook.template) {
            throw invalid("\"digest\" is for the slack, teams and discord templates, raw and template files; "
                + "the \(webhook.template) template makes a ticket per finding: set \"digest\" to \"off\" or choose another template")
        }
    }
}
