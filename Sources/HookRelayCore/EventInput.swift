#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What to do with invalid records, the `--invalid` option of every mode that reads events.
public enum InvalidPolicy: Sendable, Equatable {
    /// Report each on stderr, skip it, and exit 65 at the end.
    case report
    /// Report the first and stop with status 65.
    case fail
    /// Report each and append its raw bytes to a file; invalid records alone do not fail the run.
    case file(String)

    /// Parses `report`, `fail` or a file path.
    public init(_ text: String) {
        switch text {
        case "report": self = .report
        case "fail": self = .fail
        default: self = .file(text)
        }
    }
}

extension InvalidPolicy {
    /// The file invalid records go to, opened for appending; nil for the other policies.
    public func openFile() throws -> InvalidRecordFile? {
        guard case let .file(path) = self else { return nil }
        return try InvalidRecordFile(path: path)
    }
}

/// The inputs of a run: files by path, `-` for standard input; none means standard input.
public struct EventInput: Sendable {
    public var paths: [String]

    public init(paths: [String]) { self.paths = paths.isEmpty ? ["-"] : paths }

    /// Opens each input in turn and passes its descriptor and the prefix for its messages
    /// (empty for standard input). An input that cannot be opened is reported and skipped.
    /// `status` is raised to `.noInput` when an input cannot be opened, even when `body` throws later.
    public func forEach(
        diagnostics: Diagnostics, status: inout ExitStatus, _ body: (_ fd: Int32, _ name: String, _ prefix: String) throws -> Void
    ) rethrows {
        for path in paths {
            if path == "-" {
                try body(0, "standard input", "")
                continue
            }
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                diagnostics.report(InputError.cannotOpen(path: path, errno: errno).description)
                status = max(status, .noInput)
                continue
            }
            defer { close(fd) }
            var info = stat()
            if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
                diagnostics.report(InputError.isDirectory(path: path).description)
                status = max(status, .noInput)
                continue
            }
            try body(fd, path, path + ": ")
        }
    }
}

/// Appends invalid records' raw bytes to a file, one record per line.
public final class InvalidRecordFile {
    private let path: String
    /// Opened at the first invalid record: a run without one leaves no empty file behind.
    private var opened: (output: OutputBuffer, fd: Int32)?
    private var lastByte: UInt8 = 0x0A

    /// Checks now that the file can be written (or created), so a wrong path is reported at
    /// the start of the run rather than at its first invalid record.
    public init(path: String) throws {
        self.path = path
        let exists = access(path, F_OK) == 0
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        guard access(exists ? path : (directory.isEmpty ? "/" : directory), W_OK) == 0 else {
            throw OutputError.cannotCreate(path: path, errno: errno)
        }
    }

    deinit { if let opened { close(opened.fd) } }

    private var output: OutputBuffer {
        get throws {
            if let opened { return opened.output }
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw OutputError.cannotCreate(path: path, errno: errno) }
            let output = OutputBuffer(fd: fd, name: path, flushEachRecord: false)
            opened = (output, fd)
            return output
        }
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard let last = bytes.last else { return }
        try output.write(bytes)
        lastByte = last
    }

    /// Ends the record with a newline when it did not end with one, and writes it out.
    public func endRecord() throws {
        guard opened != nil else { return }
        if lastByte != 0x0A { try output.write(byte: 0x0A) }
        lastByte = 0x0A
        try output.flush()
    }
}
