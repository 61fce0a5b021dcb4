import Foundation

/// Events to render: 301 from the shared generator (`gen_events.py 301 7`) and hostile ones
/// built to reach every limit.
enum TemplateInputs {
    /// The generator's events; generated here in the same shape where the shared checkout is
    /// absent (a fresh CI machine has only this repository).
    static let generated: [String] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.deletingLastPathComponent().appendingPathComponent("shared/bench/gen_events.py").path
        if FileManager.default.fileExists(atPath: script) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script, "301", "7"]
            let pipe = Pipe()
            process.standardOutput = pipe
            if (try? process.run()) != nil {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
                if process.terminationStatus == 0, lines.count == 301 { return lines }
            }
        }
        let titles = ["SQL Injection", "Reflected XSS", "Open Redirect", "Exposed .git directory", "CORS misconfiguration"]
        let severities = ["critical", "high", "medium", "low", "info"]
        return (0..<301).map { index in
            let asset = "app\(index % 200).example.com"
            switch index % 10 {
            case 8:
                return #"{"event_type":"scan_completed","id":"evt_7_\#(index)","timestamp":"2025-01-01T00:00:00Z","scan":{"asset":"\#(asset)","profile":"full","duration_seconds":60,"findings":{"critical":1,"high":2,"medium":3,"low":4,"info":5}}}"#
            case 9:
                return #"{"event_type":"asset_changed","id":"evt_7_\#(index)","timestamp":"2025-01-01T00:00:00Z","asset":{"name":"\#(asset)","change":"port_opened","details":{"port":8443}}}"#
            default:
                let title = titles[index % titles.count]
                return #"{"event_type":"finding","id":"evt_7_\#(index)","timestamp":"2025-01-01T00:00:00Z","finding":{"title":"\#(title)","severity":"\#(severities[index % 5])","asset":"\#(asset)","url":"https://\#(asset)/api/v1/items?id=\#(index)","parameter":"id","description":"\#(title) detected in the id parameter","remediation":"Validate and encode input; use parameterized queries.","cvss":7.5,"tags":["owasp-top-10"]}}"#
            }
        }
    }()

    /// Text that is long in every way a target might count: emoji (2 UTF-16 units), letters
    /// with combining marks (2 scalars, 1 grapheme), flags and ZWJ families (several scalars).
    static func long(_ count: Int) -> String {
        let pieces = ["🔥", "é", "👨‍👩‍👧", "🇺🇸", "a", "\u{0301}x", " "]
        var text = ""
        var index = 0
        while text.utf16.count < count {
            text += pieces[index % pieces.count]
            index += 1
        }
        return text
    }

    /// Characters JSON-escaped to six bytes (`\u003c`), markup-escaped to five (`&amp;`), and
    /// markup of every kind.
    static let widest = String(repeating: "<&", count: 5000)
    static let markup = "```\n</details> @everyone @someone [Login](https://phish.example/login) <img src=x> {code} [~admin] | * _ !x.png! #1 \\"

    static func event(_ finding: [String: Any], type: String = "finding", id: String = "evt_hostile", extra: [String: Any] = [:]) -> String {
        var object: [String: Any] = ["event_type": type, "id": id, "timestamp": "2025-01-01T00:00:00Z", "finding": finding]
        object.merge(extra) { $1 }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    static let hostile: [String] = [
        // Long in graphemes, scalars and UTF-16 alike, everywhere a finding has text.
        event(["title": long(10_000), "severity": "critical", "description": long(10_000), "remediation": long(5_000),
               "asset": long(5_000), "url": "https://example.com/" + String(repeating: "a", count: 1_990)], id: long(5_000)),
        // The widest escapes in every field, and a URL within the link limit that widens too.
        event(["title": widest, "severity": "high", "description": widest, "remediation": widest, "asset": widest,
               "url": "https://example.com/?" + String(repeating: "&", count: 1_500)], id: widest),
        // One grapheme of 10,000 combining marks.
        event(["title": "Z" + String(repeating: "\u{0336}", count: 10_000), "severity": "medium",
               "description": "Z" + String(repeating: "\u{0301}", count: 10_000)]),
        // Markup in every field; a URL no target may take as written.
        event(["title": markup, "severity": "low", "description": markup, "remediation": markup, "asset": markup,
               "url": "https://example.com/a b"], id: markup),
        // Blank text where targets refuse empty values.
        event(["title": "   ", "severity": "info", "description": "\n", "remediation": " \t ", "asset": ""], id: ""),
        // The other event types, with long parts.
        event([:], type: "scan_completed", extra: ["scan": ["asset": long(10_000), "findings": ["critical": 1]]]),
        event([:], type: "asset_changed", extra: ["asset": ["name": long(10_000), "change": long(3_000), "details": ["x": long(50_000)]]]),
        event([:], type: long(10_000)),
    ]

    static let all = generated + hostile
}
