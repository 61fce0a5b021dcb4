import Foundation
import Testing

/// The API's contract, docs/openapi.yaml, against the built binary: `GET /v1/openapi.json`
/// (no token) serves exactly the YAML, the document passes `openapi-spec-validator`, its team
/// twins agree and its examples fit (Tests/openapi/check_document.py), and
/// `schemathesis` fuzzes every operation of a live `serve` on 127.0.0.1 with a valid token, its
/// links followed (a webhook created, then used by id), every check on: no 5xx, no response
/// outside the schema, no undocumented status. Tests/openapi/ holds its hooks (every stored URL
/// made the test's receiver on 127.0.0.1) and its settings (a fixed seed, few examples).
@Suite struct OpenAPIContractTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let yaml = root.appendingPathComponent("docs/openapi.yaml").path
    static let support = root.appendingPathComponent("Tests/openapi").path

    /// Whether python3 has `modules`; under CI a missing one fails the test instead (.ci/deps installs them).
    static func available(_ modules: String) -> Bool {
        if let value = ProcessInfo.processInfo.environment["CI"], !value.isEmpty, value != "0", value.lowercased() != "false" { return true }
        return imports(modules)
    }

    /// `python3 arguments…`, killed after `timeout` seconds; its stdout and stderr together.
    static func python(
        _ arguments: [String], environment extra: [String: String] = [:], timeout: TimeInterval
    ) async throws -> (status: Int32, output: String, seconds: Double) {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { _, new in new }
        let process = try WatchedProcess(
            executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: ["python3"] + arguments, environment: environment)
        let result = try await process.wait(timeout: timeout)
        let output = result.output + result.stderr + (result.timedOut ? "\n(killed after \(Int(timeout)) s)" : "")
        return (result.status, output, result.seconds)
    }

    /// Whether `python3 -c "import …"` succeeds (run before the suite's tasks start: it may block).
    static func imports(_ modules: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import \(modules)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    @Test(.enabled(if: available("yaml, openapi_spec_validator, jsonschema, referencing"), "needs PyYAML, openapi-spec-validator and jsonschema (bash .ci/deps); under CI it fails instead"))
    func servedDocumentIsTheYAMLAndValid() async throws {
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        // No token: the contract is public.
        let response = try await server.request("GET", "/v1/openapi.json", authorization: .some(nil))
        #expect(response.status == 200, "\(response.text.prefix(300))")
        #expect(response.string("openapi") == "3.1.0")
        let served = try server.scratch.file("served.json", response.text)
        let result = try await Self.python([Self.support + "/check_document.py", served, Self.yaml], timeout: 120)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("valid:"), "\(result.output)")
        #expect(result.output.contains(" 17 team twins,"), "every team-owned path has its twin: \(result.output)")
    }

    @Test(.enabled(if: available("schemathesis"), "needs schemathesis (bash .ci/deps); under CI it fails instead"))
    func schemathesisFindsNothing() async throws {
        let receiver = try Receiver()
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        let base = "http://127.0.0.1:\(server.port)"
        let token = try #require(server.token)
        let arguments = [
            "--config-file", Self.support + "/schemathesis.toml", "run", base + "/v1/openapi.json", "--url", base,
            "--header", "Authorization: Bearer \(token)", "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
            "--request-timeout", "20", "--no-color",
        ]
        let run = try await Self.python(
            ["-c", "import sys\nfrom schemathesis.cli import schemathesis\nsys.argv[0] = 'schemathesis'\nsys.exit(schemathesis())"] + arguments,
            environment: ["SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": Self.support, "HOOKRELAY_TEST_RECEIVER": receiver.url],
            timeout: 300)
        // The token never reaches the output: schemathesis masks Authorization.
        let output = run.output.replacingOccurrences(of: token, with: "TOKEN")
        #expect(run.status == 0, "schemathesis (\(Int(run.seconds)) s):\n\(output.suffix(20_000))\nserve's log:\n\(server.log.suffix(4000))")
        #expect(!server.log.contains(" error "), "serve logged an error:\n\(server.log.suffix(4000))")
        // The stored URLs were the receiver's: test events and deliveries reached it, on 127.0.0.1.
        #expect(!receiver.requests.isEmpty, "nothing reached the receiver: were the webhooks' URLs made its?")
        let summary = output.split(separator: "\n").first { $0.contains(" generated, ") }.map(String.init) ?? ""
        print("OpenAPIContractTests: schemathesis took \(String(format: "%.1f", run.seconds)) s:\(summary)")
    }
}
