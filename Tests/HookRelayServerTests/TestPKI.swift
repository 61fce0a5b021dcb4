import Foundation
import Testing

/// Certificates made by openssl for a test (Tests/Support/make-test-pki.sh, shared with the
/// end-to-end tests): a CA, a server and a client certificate it signs, and an unrelated CA
/// with a client certificate of its own.
struct TestPKI {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/make-test-pki.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, directory.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "make-test-pki.sh failed (is openssl installed?)")
    }

    /// The PEM text of `name` (ca.pem, client.key, other-client.pem, ...).
    func text(_ name: String) throws -> String {
        try String(contentsOfFile: directory.appendingPathComponent(name).path, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
