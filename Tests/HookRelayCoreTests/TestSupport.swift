import Foundation
@testable import HookRelayCore

/// Scans `text` as one complete input and returns the outcome and the scanner (for its fields).
func scanAll(_ text: String, paths: [String] = [], maxDepth: Int = 512) -> (JSONScanner.Outcome, [ExtractedFields.Value], [UInt8]) {
    let bytes = Array(text.utf8)
    let scanner = JSONScanner(selector: FieldSelector(paths), maxDepth: maxDepth)
    return bytes.withUnsafeBytes { buffer in
        let outcome = scanner.scan(buffer, from: 0, isEOF: true)
        let fields = scanner.fields
        return (outcome, (0..<fields.count).map { fields[$0] }, bytes)
    }
}

/// The string a field holds, unescaped, or nil.
func string(_ value: ExtractedFields.Value, in bytes: [UInt8]) -> String? {
    bytes.withUnsafeBytes { buffer in
        JSONString.bytes(of: value, in: buffer).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Everything a RecordReader reported for an input, in order.
struct Collected: RecordHandler {
    enum Item: Equatable {
        case record(String, line: Int, offset: Int)
        case invalid(String, line: Int, offset: Int)
    }

    var items: [Item] = []
    var invalidBytes: [[UInt8]] = []
    var idleCalls = 0
    var onRecord: ((RecordView) -> Void)?

    mutating func record(_ record: RecordView) throws {
        onRecord?(record)
        items.append(.record(String(decoding: record.bytes, as: UTF8.self), line: record.line, offset: record.offset))
    }

    mutating func invalid(_ error: InvalidRecord) throws {
        items.append(.invalid(error.error.description, line: error.line, offset: error.offset))
        invalidBytes.append([])
    }

    mutating func invalidBytes(_ bytes: UnsafeRawBufferPointer) throws {
        invalidBytes[invalidBytes.count - 1].append(contentsOf: bytes)
    }

    mutating func invalidEnd() throws {}

    mutating func inputIdle() throws { idleCalls += 1 }

    var records: [String] {
        items.compactMap { if case let .record(text, _, _) = $0 { return text } else { return nil } }
    }

    var errors: [String] {
        items.compactMap { if case let .invalid(text, _, _) = $0 { return text } else { return nil } }
    }
}

/// Runs a RecordReader over `bytes` written to a temporary file.
func read(
    _ bytes: [UInt8], paths: [String] = EventLayout().selector.paths.map { $0.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".") },
    maxRecordSize: Int = RecordReaderConfiguration.defaultMaxRecordSize, maxDepth: Int = 512,
    onRecord: ((RecordView) -> Void)? = nil
) throws -> Collected {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-test-\(UUID().uuidString)")
    try Data(bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let fd = open(url.path, O_RDONLY)
    defer { close(fd) }
    var collected = Collected(onRecord: onRecord)
    let configuration = RecordReaderConfiguration(selector: FieldSelector(paths), maxRecordSize: maxRecordSize, maxDepth: maxDepth)
    try RecordReader(fd: fd, name: "test", configuration: configuration).run(&collected)
    return collected
}

func read(_ text: String, maxRecordSize: Int = RecordReaderConfiguration.defaultMaxRecordSize) throws -> Collected {
    try read(Array(text.utf8), maxRecordSize: maxRecordSize)
}

/// Events in the shape of ../shared/bench/gen_events.py, generated here so tests need no Python.
func sampleEvents(_ count: Int) -> [String] {
    let severities = ["critical", "high", "medium", "low", "info"]
    return (0..<count).map { index in
        switch index % 10 {
        case 8:
            return #"{"event_type":"scan_completed","id":"evt_\#(index)","scan":{"asset":"app\#(index % 7).example.com","profile":"full","findings":{"high":1}}}"#
        case 9:
            return #"{"event_type":"asset_changed","id":"evt_\#(index)","asset":{"name":"app\#(index % 7).example.com","change":"added"}}"#
        default:
            return #"{"event_type":"finding","id":"evt_\#(index)","finding":{"title":"SQL Injection","severity":"\#(severities[index % 5])","asset":"app\#(index % 7).example.com","url":"https://app.example.com/?q=1","tags":["owasp"],"cvss":7.5}}"#
        }
    }
}
