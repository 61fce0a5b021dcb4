import Foundation
import Testing
@testable import HookRelayCore

/// JSONTestSuite (github.com/nst/JSONTestSuite, MIT): every y_ file accepted, every n_ file
/// rejected, every i_ file handled as documented in man/hookrelay-filter.1.
@Suite struct ConformanceTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures/json-test-suite/test_parsing")

    static func files(_ prefix: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.sorted()
    }

    static func validate(_ name: String) throws -> Result<Bool, JSONSyntaxError> {
        let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
        return bytes.withUnsafeBytes { JSONScanner(maxDepth: 512).validateDocument($0) }
    }

    @Test func corpusIsPresent() {
        #expect(Self.files("y_").count == 95)
        #expect(Self.files("n_").count == 188)
        #expect(Self.files("i_").count == 35)
    }

    @Test(arguments: files("y_"))
    func accepts(_ name: String) throws {
        let result = try Self.validate(name)
        if case let .failure(error) = result { Issue.record("\(name) rejected: \(error)") }
    }

    @Test(arguments: files("n_"))
    func rejects(_ name: String) throws {
        let result = try Self.validate(name)
        guard case let .failure(error) = result else {
            Issue.record("\(name) accepted")
            return
        }
        #expect(!error.description.isEmpty)
    }

    /// Implementation-defined cases. Numbers are checked for syntax only, so every magnitude is
    /// accepted (events are forwarded byte for byte, never converted). Strings must be Unicode:
    /// lone surrogate escapes, invalid or overlong UTF-8 and UTF-16 input are rejected. 500 nested
    /// arrays are within the default depth limit (512). A UTF-8 byte-order mark is skipped by the
    /// record reader at the start of an input, not by the document scanner.
    @Test(arguments: files("i_"))
    func implementationDefined(_ name: String) throws {
        let accepted = name.hasPrefix("i_number_") || name == "i_structure_500_nested_arrays.json"
        let result = try Self.validate(name)
        if name == "i_structure_UTF-8_BOM_empty_object.json" {
            let bytes = try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(name)))
            #expect(try read(bytes).records == ["{}"])
            return
        }
        switch result {
        case .success: #expect(accepted, "\(name) accepted")
        case let .failure(error): #expect(!accepted, "\(name) rejected: \(error)")
        }
    }
}
