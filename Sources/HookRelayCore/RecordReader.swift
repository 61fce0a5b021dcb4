#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Receives what a ``RecordReader`` finds, in input order. The modes that read events do not
/// implement it: ``RecordPipeline`` is their handler, and they give it a ``RecordSink``.
public protocol RecordHandler {
    /// A valid JSON object. The view is valid only during the call.
    mutating func record(_ record: RecordView) throws
    /// An invalid record begins: its raw bytes follow through `invalidBytes`, then `invalidEnd`.
    mutating func invalid(_ error: InvalidRecord) throws
    mutating func invalidBytes(_ bytes: UnsafeRawBufferPointer) throws
    mutating func invalidEnd() throws
    /// Nothing more can be read without waiting: a good moment to flush output.
    mutating func inputIdle() throws
}

/// One valid record, as it sits in the reader's buffer.
public struct RecordView {
    /// The whole buffer; `fields` offsets index it.
    public let buffer: UnsafeRawBufferPointer
    public let range: Range<Int>
    public let fields: ExtractedFields
    /// Line (1-based) and byte offset (0-based) of the record's first byte in its input.
    public let line: Int
    public let offset: Int

    /// The record's exact bytes.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: buffer[range]) }

    /// The value at the selector's path number `slot`.
    @inline(__always)
    public func value(_ slot: Int) -> ExtractedFields.Value { fields[slot] }

    /// The string at path number `slot`, unescaped; nil when absent or not a string.
    public func string(_ slot: Int) -> [UInt8]? { JSONString.bytes(of: fields[slot], in: buffer) }

    /// Scans one JSON event given as bytes for `selector`'s paths and gives `body` its record
    /// (slots in the selector's order); nil when the bytes are not one valid JSON object.
    static func ofEvent<T>(_ bytes: [UInt8], selector: FieldSelector, _ body: (RecordView) -> T?) -> T? {
        let scanner = JSONScanner(selector: selector)
        return bytes.withUnsafeBytes { buffer -> T? in
            guard case let .complete(end, _, true) = scanner.scan(buffer, from: 0, isEOF: true) else { return nil }
            return body(RecordView(buffer: buffer, range: 0..<end, fields: scanner.fields, line: 1, offset: 0))
        }
    }
}

/// A record that was skipped, with where its error is in the input.
public struct InvalidRecord: Sendable, CustomStringConvertible {
    public let error: JSONSyntaxError
    /// Line (1-based) and byte offset (0-based) of the error in the input.
    public let line: Int
    public let offset: Int
    /// Line on which the record began, when it began on an earlier line than the error.
    public let recordLine: Int

    public init(error: JSONSyntaxError, line: Int, offset: Int, recordLine: Int? = nil) {
        self.error = error
        self.line = line
        self.offset = offset
        self.recordLine = recordLine ?? line
    }

    public var description: String { description(stopped: false) }

    /// The message for this record; `stopped` when the run ends at it (`--invalid=fail`).
    public func description(stopped: Bool) -> String {
        let start = recordLine < line ? " (in the record that began on line \(recordLine))" : ""
        return "line \(line), byte \(offset): \(error)\(start); "
            + (stopped ? "stopped there (--invalid=fail); the records before it were handled" : "the record was skipped")
    }
}

/// Failures of the input itself (not of its contents).
public enum InputError: Error, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, errno: Int32)
    case isDirectory(path: String)
    case readFailed(path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .cannotOpen(path, code): return "\(path): cannot open: \(String(cString: strerror(code)))"
        case let .isDirectory(path): return "\(path): is a directory; give a file of JSON events"
        case let .readFailed(path, code): return "\(path): read error: \(String(cString: strerror(code)))"
        }
    }
}

/// Limits and the fields to extract, shared by every mode that reads events.
public struct RecordReaderConfiguration: Sendable {
    public var selector: FieldSelector
    public var maxRecordSize: Int
    public var maxDepth: Int

    public static let defaultMaxRecordSize = 16 << 20
    public static let defaultMaxDepth = 512

    public init(
        selector: FieldSelector,
        maxRecordSize: Int = RecordReaderConfiguration.defaultMaxRecordSize,
        maxDepth: Int = RecordReaderConfiguration.defaultMaxDepth
    ) {
        self.selector = selector
        self.maxRecordSize = max(1, maxRecordSize)
        self.maxDepth = maxDepth
    }
}

/// Splits a stream of whitespace-separated JSON values (NDJSON, concatenated or pretty-printed
/// objects) into records, validating each strictly, with memory bounded by `maxRecordSize`.
///
/// After an invalid record the reader resynchronises: it resumes at the first later line whose
/// first non-blank byte is `{` at a column no greater than the bad record's own. Records
/// written one per line, or pretty-printed with top-level braces in column 0, therefore lose
/// nothing but the bad record. A UTF-8 byte-order mark at the very start of the input is skipped.
public final class RecordReader {
    private let fd: Int32
    private let name: String
    private let configuration: RecordReaderConfiguration
    private let scanner: JSONScanner
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var head = 0
    private var filled = 0
    private var eof = false
    /// Input offset of `buffer[0]`.
    private var baseOffset = 0
    private var line = 1
    private var column = 0

    static let initialCapacity = 1 << 20

    /// Reads from `fd`, which the caller owns; `name` is used in error messages.
    public init(fd: Int32, name: String, configuration: RecordReaderConfiguration) {
        self.fd = fd
        self.name = name
        self.configuration = configuration
        scanner = JSONScanner(selector: configuration.selector, maxDepth: configuration.maxDepth)
        capacity = Self.initialCapacity
        buffer = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { buffer.deallocate() }

    /// Bytes consumed from the input so far.
    public var bytesRead: Int { baseOffset + filled }

    /// Reads the whole input, calling `handler` for each record.
    public func run<Handler: RecordHandler>(_ handler: inout Handler) throws {
        while filled < 3, !eof { try fill(&handler) }
        if filled >= 3, buffer.load(as: UInt8.self) == 0xEF, buffer.load(fromByteOffset: 1, as: UInt8.self) == 0xBB,
           buffer.load(fromByteOffset: 2, as: UInt8.self) == 0xBF {
            head = 3
        }
        while true {
            let bytes = buffer.assumingMemoryBound(to: UInt8.self)
            while head < filled {
                let c = bytes[head]
                if c == 0x0A {
                    line += 1
                    column = 0
                } else if c == 0x20 || c == 0x09 || c == 0x0D {
                    column += 1
                } else {
                    break
                }
                head += 1
            }
            if head == filled {
                if eof { return }
                try fill(&handler)
                continue
            }
            let view = UnsafeRawBufferPointer(start: buffer, count: filled)
            switch scanner.scan(view, from: head, isEOF: eof) {
            case let .complete(end, newlines, isObject):
                if end - head > configuration.maxRecordSize {
                    try reportTooLarge(&handler)
                } else if isObject {
                    try handler.record(RecordView(
                        buffer: view, range: head..<end, fields: scanner.fields, line: line, offset: baseOffset + head))
                    advanceColumn(over: head..<end, newlines: newlines)
                    line += newlines
                    head = end
                } else {
                    let error = JSONSyntaxError(.notAnObject(kind: Self.kind(of: bytes[head])), offset: 0, newlines: 0)
                    try handler.invalid(InvalidRecord(error: error, line: line, offset: baseOffset + head))
                    try handler.invalidBytes(UnsafeRawBufferPointer(rebasing: view[head..<end]))
                    try handler.invalidEnd()
                    advanceColumn(over: head..<end, newlines: newlines)
                    line += newlines
                    head = end
                }
            case .needMore:
                if filled - head >= configuration.maxRecordSize {
                    try reportTooLarge(&handler)
                } else {
                    try fill(&handler)
                }
            case let .failure(error):
                try handler.invalid(InvalidRecord(
                    error: error, line: line + error.newlines, offset: baseOffset + head + error.offset, recordLine: line))
                try skipBadRecord(&handler)
            }
        }
    }

    /// Moves the column past a record: counted from its last line break when it has one.
    private func advanceColumn(over range: Range<Int>, newlines: Int) {
        guard newlines > 0 else {
            column += range.count
            return
        }
        var index = range.upperBound - 1
        while index > range.lowerBound, buffer.load(fromByteOffset: index, as: UInt8.self) != 0x0A { index -= 1 }
        column = range.upperBound - index - 1
    }

    private func reportTooLarge<Handler: RecordHandler>(_ handler: inout Handler) throws {
        let error = JSONSyntaxError(.tooLarge(limit: configuration.maxRecordSize), offset: 0, newlines: 0)
        try handler.invalid(InvalidRecord(error: error, line: line, offset: baseOffset + head))
        try skipBadRecord(&handler)
    }

    static func kind(of byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "["): return "array"
        case UInt8(ascii: "\""): return "string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return "boolean"
        case UInt8(ascii: "n"): return "null"
        default: return "number"
        }
    }

    /// Discards from `head` to the resynchronisation point, passing the bytes to the handler.
    private func skipBadRecord<Handler: RecordHandler>(_ handler: inout Handler) throws {
        let indent = column
        var atLineStart = false
        var lineIndent = 0
        var chunkStart = head
        var lineStart = head
        while true {
            if head == filled {
                try handler.invalidBytes(UnsafeRawBufferPointer(start: buffer + chunkStart, count: head - chunkStart))
                if eof { break }
                head = filled
                try fill(&handler)
                chunkStart = head
                lineStart = head
                continue
            }
            let c = buffer.load(fromByteOffset: head, as: UInt8.self)
            if c == 0x0A {
                line += 1
                atLineStart = true
                lineIndent = 0
                head += 1
                lineStart = head
                continue
            }
            if atLineStart {
                if c == 0x20 || c == 0x09 || c == 0x0D {
                    lineIndent += 1
                    head += 1
                    continue
                }
                if c == UInt8(ascii: "{"), lineIndent <= indent {
                    let stop = max(chunkStart, lineStart)
                    try handler.invalidBytes(UnsafeRawBufferPointer(start: buffer + chunkStart, count: stop - chunkStart))
                    head = stop
                    column = 0
                    break
                }
                atLineStart = false
            }
            head += 1
        }
        try handler.invalidEnd()
    }

    /// Makes room and reads more input, keeping `buffer[head..<filled]`.
    ///
    /// When the kept part is a partial record it is scanned again from its start after this
    /// returns, so reading continues while data is ready until the new part is at least as large
    /// as the kept one: rescans then cost O(n) in total for a record of n bytes.
    private func fill<Handler: RecordHandler>(_ handler: inout Handler) throws {
        if head > 0 {
            let kept = filled - head
            if kept > 0 { memmove(buffer, buffer + head, kept) }
            baseOffset += head
            filled = kept
            head = 0
        }
        if filled == capacity {
            let limit = max(configuration.maxRecordSize, Self.initialCapacity)
            let grown = min(capacity * 2, limit)
            let newBuffer = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
            newBuffer.copyMemory(from: buffer, byteCount: filled)
            buffer.deallocate()
            buffer = newBuffer
            capacity = grown
        }
        let kept = filled
        repeat {
            if !Self.readable(fd) { try handler.inputIdle() }
            let count = read(fd, buffer + filled, capacity - filled)
            if count > 0 {
                filled += count
            } else if count == 0 {
                eof = true
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN {
                var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&pollfd, 1, -1)
            } else {
                throw InputError.readFailed(path: name, errno: errno)
            }
        } while !eof && filled < capacity && filled - kept < max(kept, 1) && Self.readable(fd)
    }

    private static func readable(_ fd: Int32) -> Bool {
        var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&pollfd, 1, 0) != 0
    }
}

extension RecordReader {
    /// Scans a complete in-memory buffer of whitespace-separated JSON objects (a request body),
    /// calling `each` for every record. The first invalid record ends the scan: it is thrown,
    /// with its byte offset in the buffer and the number of records before it.
    public static func records(
        in bytes: UnsafeRawBufferPointer, configuration: RecordReaderConfiguration, each: (RecordView) throws -> Void
    ) throws {
        let scanner = JSONScanner(selector: configuration.selector, maxDepth: configuration.maxDepth)
        var start = 0
        var line = 1
        while true {
            while start < bytes.count, bytes[start] == 0x20 || bytes[start] == 0x09 || bytes[start] == 0x0D || bytes[start] == 0x0A {
                if bytes[start] == 0x0A { line += 1 }
                start += 1
            }
            guard start < bytes.count else { return }
            switch scanner.scan(bytes, from: start, isEOF: true) {
            case let .complete(end, newlines, isObject):
                guard isObject else {
                    let error = JSONSyntaxError(.notAnObject(kind: kind(of: bytes[start])), offset: 0, newlines: 0)
                    throw InvalidRecord(error: error, line: line, offset: start)
                }
                guard end - start <= configuration.maxRecordSize else {
                    throw InvalidRecord(error: JSONSyntaxError(.tooLarge(limit: configuration.maxRecordSize), offset: 0, newlines: 0), line: line, offset: start)
                }
                try each(RecordView(buffer: bytes, range: start..<end, fields: scanner.fields, line: line, offset: start))
                line += newlines
                start = end
            case .needMore:
                throw InvalidRecord(error: JSONSyntaxError(.unexpectedEnd, offset: bytes.count - start, newlines: 0), line: line, offset: bytes.count)
            case let .failure(error):
                throw InvalidRecord(error: error, line: line + error.newlines, offset: start + error.offset, recordLine: line)
            }
        }
    }
}

extension InvalidRecord: Error {}
