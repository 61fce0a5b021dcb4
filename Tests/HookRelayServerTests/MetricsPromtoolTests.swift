import Foundation
import HookRelayCore
@testable import HookRelayServer
import Hummingbird
import HummingbirdTesting
import Testing

/// `GET /metrics` and contrib/prometheus/alerts.yml as Prometheus's own checker sees them
/// (`promtool check metrics`, `promtool check rules`), after some traffic; and the metrics every
/// client library exports.
@Suite struct MetricsPromtoolTests {
    static let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs promtool with `arguments` and `input` on standard input; its exit status and output.
    static func promtool(_ arguments: [String], input: Data = Data()) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(promtool))
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    static func available() -> Bool {
        if promtool == nil {
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "promtool is missing; .ci/deps installs Debian's prometheus")
            print("MetricsPromtoolTests: skipped, no promtool (apt-get install prometheus)")
        }
        return promtool != nil
    }

    @Test func metricsPassPromtoolAndNameTheBuildAndTheProcess() async throws {
        guard Self.available() else { return }
        let serve = try ServeHarness()
        let id = try await serve.webhook()
        try await serve.run { client in
            #expect(try await client.postEvent(#"{"event_type":"finding","id":"m-1"}"#) == .accepted)
            try await eventually("delivered") { try await serve.count(id, .delivered) == 1 }
            let response = try await client.execute(uri: "/metrics", method: .get)
            let text = String(buffer: response.body)
            let checked = try Self.promtool(["check", "metrics"], input: Data(text.utf8))
            #expect(checked.status == 0 && checked.output.isEmpty, "promtool check metrics:\n\(checked.output)\n\(text)")
            #expect(text.contains("hookrelay_build_info{version=\"\(HookRelayVersion.string)\"} 1"))
            #expect(text.contains("hookrelay_events_ingested_total 1"))
            let size = text.split(separator: "\n").first { $0.hasPrefix("hookrelay_database_size_bytes ") }
            #expect((size.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0) > 4096, "\(size ?? "no database size")")
            #expect(text.contains("hookrelay_attempts_total{outcome=\"2xx\"} 1"))
            for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds"] {
                let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
                let value = try #require(line.flatMap { Double($0.split(separator: " ").last ?? "") }, "\(name) in\n\(text)")
                #expect(value > 0 || name == "process_cpu_seconds_total", "\(name) = \(value)")
            }
            let help = text.split(separator: "\n").filter { $0.hasPrefix("# HELP ") }.count
            let types = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.count
            #expect(help == types && help >= 13, "every metric has its help: \(help) of \(types)")
        }
    }

    @Test func theAlertRulesPassPromtool() throws {
        guard Self.available() else { return }
        let rules = Self.root.appendingPathComponent("contrib/prometheus/alerts.yml").path
        let checked = try Self.promtool(["check", "rules", rules])
        #expect(checked.status == 0 && checked.output.contains("SUCCESS: 6 rules found"), "\(checked.output)")
    }

    /// The metric names (hookrelay_… and process_…) an expression or a rules file uses, less
    /// the histogram's series suffixes.
    static func metricNames(in text: String) -> Set<String> {
        Set(text.matches(of: #/\b(?:hookrelay|process)_[a-z_]+/#).map { match in
            var name = String(match.output)
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) && name.hasPrefix("hookrelay_attempt_duration") {
                name.removeLast(suffix.count)
            }
            return name
        })
    }

    @Test func theDashboardAndTheAlertsUseOnlyMetricsServeServes() async throws {
        let serve = try ServeHarness()
        try await serve.run { client in
            let text = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let served = Set(text.split(separator: "\n").compactMap { line -> String? in
                guard line.hasPrefix("# TYPE ") else { return nil }
                return line.split(separator: " ").dropFirst(2).first.map(String.init)
            })
            let dashboard = try Data(contentsOf: Self.root.appendingPathComponent("contrib/grafana/hookrelay.json"))
            let object = try #require(try JSONSerialization.jsonObject(with: dashboard) as? [String: Any])
            let panels = try #require(object["panels"] as? [[String: Any]])
            let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
            #expect(expressions.count >= 9)
            let rules = try String(contentsOf: Self.root.appendingPathComponent("contrib/prometheus/alerts.yml"), encoding: .utf8)
            let used = Self.metricNames(in: expressions.joined(separator: "\n")).union(Self.metricNames(in: rules))
            #expect(used.count >= 8, "\(used.sorted())")
            #expect(used.subtracting(served).isEmpty, "used but not served: \(used.subtracting(served).sorted())")
        }
    }
}
