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
            let name = trimmed(item[..<equals])
            guard !name.isEmpty else { throw Problem(description: "\(source) '\(item)' needs a name before '='") }
            guard values.updateValue(trimmed(item[item.index(after: equals)...]), forKey: name) == nil else {
                throw Problem(description: "\(source) \(name) is given twice")
            }
        }
        return values
    }

    private static func trimmed(_ text: Substring) -> String {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}
