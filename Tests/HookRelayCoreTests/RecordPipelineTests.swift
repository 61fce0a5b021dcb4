import Foundation
import Testing
@testable import HookRelayCore

/// The one record pipeline of `filter`, `deliver` and `render`: inputs, the invalid-record
/// policy, counts and the exit status, with a sink that records what it was given.
@Suite struct RecordPipelineTests {
    /// What the pipeline handed a sink, and how it can make the sink fail.
    struct Recording: RecordSink {
        var records: [String] = []
        var finished: [Bool] = []
        /// Records holding this text are rejected.
        var reject: String?
        /// The error `record` and `finish` throw once `records` holds this many.
        var failAfter: (count: Int, error: any Error)?

        mutating func record(_ record: RecordView) throws {
            let text = String(decoding: record.bytes, as: UTF8.self)
            if let reject, text.contains(reject) { throw RecordRejected("line \(record.line): not wanted") }
            if let failAfter, records.count >= failAfter.count { throw failAfter.error }
            records.append(text)
        }

        mutating func inputIdle() throws {}

        mutating func finish(complete: Bool) throws {
            finished.append(complete)
            if let failAfter, records.count >= failAfter.count { throw failAfter.error }
        }
    }

    /// A scratch directory with files, and a file the diagnostics go to.
    final class Scratch {
        let directory: URL
        let stderrPath: String
        let diagnostics: Diagnostics

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-pipeline-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            stderrPath = directory.appendingPathComponent("stderr").path
            diagnostics = Diagnostics(fd: open(stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600))
        }

        deinit {
            close(diagnostics.fd)
            try? FileManager.default.removeItem(at: directory)
        }

        func file(_ name: String, _ text: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }

        var stderr: [String] {
            (try? String(contentsOfFile: stderrPath, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        }

        func run(
            _ paths: [String], policy: InvalidPolicy = .report, sink: Recording = Recording()
        ) -> (RecordPipeline.Outcome, Recording) {
            var sink = sink
            let pipeline = RecordPipeline(
                configuration: RecordPipeline.Configuration(input: EventInput(paths: paths), invalidPolicy: policy),
                diagnostics: diagnostics)
            let outcome = pipeline.run(&sink, selector: EventLayout().selector)
            return (outcome, sink)
        }
    }

    static let mixed = "{\"id\":1}\n{\"id\"1}\n{\"id\":3}\n"

    @Test func invalidRecordsAreReportedSkippedAndFailTheRunAtTheEnd() throws {
        let scratch = try Scratch()
        let (outcome, sink) = scratch.run([try scratch.file("a.ndjson", Self.mixed)])
        #expect(sink.records == [#"{"id":1}"#, #"{"id":3}"#])
        #expect(sink.finished == [true])
        #expect(outcome == RecordPipeline.Outcome(status: .dataError, counts: .init(read: 3, invalid: 1), outputClosed: false))
        #expect(scratch.stderr == ["hookrelay: \(scratch.directory.path)/a.ndjson: line 2, byte 14: unexpected '1'; expected ':' after an object member name; the record was skipped"])
    }

    @Test func failStopsAtTheFirstInvalidRecordAfterFinishingWhatCameBefore() throws {
        let scratch = try Scratch()
        let second = try scratch.file("b.ndjson", "{\"id\":4}\n")
        let (outcome, sink) = scratch.run([try scratch.file("a.ndjson", Self.mixed), second], policy: .fail)
        #expect(sink.records == [#"{"id":1}"#])
        #expect(sink.finished == [false])
        #expect(outcome.status == .dataError && outcome.counts == .init(read: 2, invalid: 1))
        #expect(scratch.stderr.count == 1)
        #expect(scratch.stderr[0].hasSuffix("; stopped there (--invalid=fail); the records before it were handled"))
    }

    @Test func invalidRecordsWrittenToAFileDoNotFailTheRun() throws {
        let scratch = try Scratch()
        let rejects = scratch.directory.appendingPathComponent("rejects").path
        let (outcome, sink) = scratch.run([try scratch.file("a.ndjson", Self.mixed)], policy: .file(rejects))
        #expect(sink.records.count == 2)
        #expect(outcome.status == .success && outcome.counts.invalid == 1)
        #expect(try String(contentsOfFile: rejects, encoding: .utf8) == "{\"id\"1}\n")
    }

    @Test func anInvalidFileThatCannotBeWrittenEndsTheRunBeforeReading() throws {
        let scratch = try Scratch()
        let (outcome, sink) = scratch.run([try scratch.file("a.ndjson", Self.mixed)], policy: .file("/nonexistent/rejects"))
        #expect(outcome.status == .ioError && sink.records.isEmpty && sink.finished.isEmpty)
        #expect(scratch.stderr.count == 1 && scratch.stderr[0].hasSuffix("; check the --invalid path"))
    }

    @Test func rejectedRecordsAreReportedWithTheirInputCountedAndFailTheRun() throws {
        let scratch = try Scratch()
        let path = try scratch.file("a.ndjson", "{\"id\":1}\n{\"id\":\"no\"}\n{\"id\":3}\n")
        let (outcome, sink) = scratch.run([path], sink: Recording(reject: "no"))
        #expect(sink.records == [#"{"id":1}"#, #"{"id":3}"#])
        #expect(outcome == RecordPipeline.Outcome(status: .dataError, counts: .init(read: 3, rejected: 1), outputClosed: false))
        #expect(scratch.stderr == ["hookrelay: \(path): line 2: not wanted"])
    }

    @Test func aMissingInputIsReportedAndTheOthersAreRead() throws {
        let scratch = try Scratch()
        let missing = scratch.directory.appendingPathComponent("missing").path
        let (outcome, sink) = scratch.run([missing, try scratch.file("a.ndjson", "{\"id\":1}\n")])
        #expect(sink.records == [#"{"id":1}"#])
        #expect(outcome.status == .noInput)
        #expect(scratch.stderr == ["hookrelay: \(missing): cannot open: No such file or directory"])
    }

    @Test func aClosedOutputEndsTheRunQuietlyWithSuccess() throws {
        let scratch = try Scratch()
        let missing = scratch.directory.appendingPathComponent("missing").path
        let path = try scratch.file("a.ndjson", "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n")
        let (outcome, sink) = scratch.run([missing, path], sink: Recording(failAfter: (1, OutputError.brokenPipe)))
        #expect(outcome == RecordPipeline.Outcome(status: .success, counts: .init(read: 2), outputClosed: true))
        #expect(sink.records.count == 1 && sink.finished.isEmpty)
        #expect(scratch.stderr.count == 1, "only the missing input: \(scratch.stderr)")
    }

    @Test func aWriteErrorIsReportedAsAnIOError() throws {
        let scratch = try Scratch()
        let error = OutputError.writeFailed(path: "standard output", errno: ENOSPC)
        let (outcome, _) = scratch.run([try scratch.file("a.ndjson", "{\"id\":1}\n")], sink: Recording(failAfter: (1, error)))
        #expect(outcome.status == .ioError)
        #expect(scratch.stderr == ["hookrelay: standard output: write error: No space left on device"])
    }

    /// `filter --count --invalid=fail` prints no count for an input it did not finish.
    @Test func filterCountsOnlyACompleteInput() throws {
        let scratch = try Scratch()
        let path = try scratch.file("a.ndjson", Self.mixed)
        let outputPath = scratch.directory.appendingPathComponent("out").path
        func filter(_ policy: InvalidPolicy) -> (HookRelayCore.ExitStatus, String) {
            let fd = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            defer { close(fd) }
            let configuration = FilterRun.Configuration(
                records: RecordPipeline.Configuration(input: EventInput(paths: [path]), invalidPolicy: policy), countOnly: true, summary: true)
            let status = FilterRun(configuration: configuration, diagnostics: scratch.diagnostics).run(output: OutputBuffer(fd: fd))
            return (status, (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
        }
        #expect(filter(.report) == (HookRelayCore.ExitStatus.dataError, "2\n"))
        #expect(filter(.fail) == (HookRelayCore.ExitStatus.dataError, ""))
        #expect(scratch.stderr.filter { $0.hasPrefix("hookrelay: read ") } == [
            "hookrelay: read 3, matched 2, invalid 1, unknown severity 0", "hookrelay: read 2, matched 1, invalid 1, unknown severity 0",
        ])
    }
}
