import HookRelayCore

/// The one reading of template values given as `NAME=VALUE` (`--template-var` of `deliver`,
/// `render` and `webhooks add|update`, and the web page's lines), so every way in takes the same
/// text the same way: the name before the first `=`, the value after it, each trimmed of spaces
/// and tabs; a name is required, and given twice is a mistake.
public enum TemplateVariables {
    public struct Problem: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// `items` as names and values; `source` names where they came from in messages
    /// (`--template-var`, `template value`).
    public static func parse(_ items: [String], source: String) throws(Problem) -> [String: String] {
        var values: [String: String] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "=") else {
                throw Problem(description: "\(source) '\(item)' needs the form NAME=VALUE")
            }
            let name = item[..<equals].trimmingSpaces()
            guard !name.isEmpty else { throw Problem(description: "\(source) '\(item)' needs a name before '='") }
            guard values.updateValue(item[item.index(after: equals)...].trimmingSpaces(), forKey: name) == nil else {
                throw Problem(description: "\(source) \(name) is given twice")
            }
        }
        return values
    }

    /// Checks values given as an object (the API's `template_vars`): the same rule for names as
    /// ``parse(_:source:)``, a name that is not empty and has no spaces around it.
    public static func check(_ values: [String: String], source: String) throws(Problem) {
        for name in values.keys.sorted() where name.isEmpty || name[...].trimmingSpaces() != name {
            throw Problem(description: "\(source): the name \(JSONString.quote(name)) is empty or has spaces around it; give a name such as \"team\"")
        }
    }
}
