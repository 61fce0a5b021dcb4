import Foundation
import HookRelayCore

/// One libFuzzer input through every parser that takes outside bytes: the JSON scanner (whole
/// document and as a record stream, with field extraction), and the text parsers of headers,
/// secrets, durations, sizes, times and tokens. A crash, a hang or a sanitizer report is a
/// finding; answers are checked for consistency where two paths must agree.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = UnsafeRawBufferPointer(start: data, count: size)
    let layout = EventLayout()

    // The scanner on the whole input, with the fields deliver and serve extract.
    let document = JSONScanner(selector: layout.selector, maxDepth: 512).validateDocument(buffer)

    // The same bytes as a stream of records: a document that is one valid object must come
    // back as exactly that one record.
    var records = 0
    var firstStart = -1
    let configuration = RecordReaderConfiguration(selector: layout.selector, maxRecordSize: max(1, size), maxDepth: 512)
    do {
        try RecordReader.records(in: buffer, configuration: configuration) { record in
            records += 1
            if firstStart < 0 { firstStart = record.range.lowerBound }
            _ = layout.id(of: record)
            _ = layout.type(of: record)
            _ = Filter(eventTypes: ["finding"], severity: .atLeast(.high), assetGlobs: ["*.example.com"]).evaluate(record, layout: layout)
        }
    } catch {}
    if case .success(true) = document {
        precondition(records == 1 && firstStart == firstNonBlank(buffer), "a valid object document was not read back as one record")
    }

    // Text parsers.
    let text = String(decoding: buffer, as: UTF8.self)
    _ = try? WebhookSecret(text)
    _ = try? WebhookSecret.parse(list: text, source: "fuzz")
    _ = Duration(parsing: text)
    _ = ByteCount.parse(text)
    _ = TimeSpec.parse(text, now: 1_800_000_000_000)
    _ = APIToken("token").accepts(authorization: text)
    let parts = text.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
    if parts.count == 4, let secret = try? WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
        try? Array(parts[3].utf8).withUnsafeBytes { body in
            try Signer.verify(id: parts[0], timestamp: parts[1], signature: parts[2], body: body, secrets: [secret], now: 1_800_000_000)
        }
    }
    return 0
}

private func firstNonBlank(_ buffer: UnsafeRawBufferPointer) -> Int {
    buffer.firstIndex { ![0x20, 0x0A, 0x0D, 0x09].contains($0) } ?? buffer.count
}

// SwiftPM links an executable's entry point as `<module>_main`; hand the process to libFuzzer's
// driver from there (libFuzzer's own main() is then not linked in).
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("HookRelayFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments, { fuzz($0, $1) })
}
