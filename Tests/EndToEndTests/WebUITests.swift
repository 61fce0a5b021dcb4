import Foundation
import Testing

/// The web page of `serve`, driven in headless Chromium by Tests/ui/ui_test.py (Selenium)
/// against the real binary: log in, add a webhook, test it, see a failed delivery and retry it
/// to success, pause and resume, escaping of hostile text, CSRF, delete, log out; then a stored
/// viewer token logs in, its pages have no form but logout's, and its forged POSTs get 403.
@Suite struct WebUITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Whether the browser and Selenium are here; under CI they must be (.ci/run installs them).
    static func browserAvailable() -> Bool {
        let tools = ["/usr/bin/chromium", "/usr/bin/chromedriver"].allSatisfy { FileManager.default.isExecutableFile(atPath: $0) }
        let selenium = (try? run(["python3", "-c", "import selenium"], timeout: 30).status) == 0
        return tools && selenium
    }

    /// Runs a command to its end, waiting without holding a thread of the test pool.
    static func run(_ arguments: [String], timeout: TimeInterval) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        // Selenium must use the installed driver, never fetch one.
        var environment = ProcessInfo.processInfo.environment
        environment["SE_OFFLINE"] = "true"
        process.environment = environment
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("ui-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: (try? Data(contentsOf: output)) ?? Data(), as: UTF8.self))
    }

    @Test func theWebPageDoesWhatTheAPIDoesSafely() async throws {
        guard Self.browserAvailable() else {
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "chromium, chromium-driver and selenium are missing; .ci/run installs them")
            return
        }
        let healthy = Setting(true)
        let receiver = try Receiver { request, _ in
            switch request.path {
            case "/control/ok": healthy.set(true)
            case "/control/fail": healthy.set(false)
            default: return Receiver.Response(status: healthy.get() ? 204 : 500)
            }
            return Receiver.Response(status: 200)
        }
        let server = try await ServeProcess.started(config: ["retry_schedule": ["100ms", "100ms"]])
        defer { server.abandon() }
        let script = Self.root.appendingPathComponent("Tests/ui/ui_test.py").path
        let arguments = ["python3", script, "http://127.0.0.1:\(server.port)", server.token ?? "", "http://127.0.0.1:\(receiver.port)"]
        // The browser takes seconds; run it on a thread of its own, not the test pool's.
        let result = try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try Self.run(arguments, timeout: 180) }) }.start()
        }
        #expect(result.status == 0, "\(result.output)\n--- server log ---\n\(server.log)")
        #expect(result.output.contains("ui: ok"), "\(result.output)")
        #expect(!server.log.contains(server.token ?? "-"), "the token is in the log")
    }
}
