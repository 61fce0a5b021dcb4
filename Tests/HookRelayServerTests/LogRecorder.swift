import Logging
import Synchronization

/// A log handler that keeps what was logged, for a test to read (what an operator would see in
/// `serve`'s log lines).
final class LogRecorder: LogHandler, Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }

    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        let metadata = (event.metadata ?? [:]).mapValues { "\($0)" }
        entries.withLock { $0.append(Entry(level: event.level, message: "\(event.message)", metadata: metadata)) }
    }

    /// Everything logged so far.
    var all: [Entry] { entries.withLock { $0 } }

    /// The states `webhook` moved to, in order, as the "webhook health changed" lines say.
    func healthChanges(of webhook: String) -> [String] {
        all.filter { $0.message == "webhook health changed" && $0.metadata["webhook"] == webhook }.compactMap { $0.metadata["to"] }
    }
}
