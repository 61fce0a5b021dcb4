import HookRelayCore
import HookRelayStore

/// `deliver --dedupe-window`: a record whose de-duplication key (HookRelayCore's ``DedupeKey``:
/// the fingerprint, the severity unless ignored, the status) was spooled to a URL within the
/// window is not spooled to it again; its result line says `suppressed`, with the `ref` of the
/// message that carried the key first. Decided as records are read, a batch at a time: the
/// template renders the event then, and the spool's ledger is written in the transaction that
/// spools the batch (a crash keeps both or neither).
public struct DeliverDedupe: Sendable {
    public var window: Int64
    public var severity: Bool
    public var fingerprinter: Fingerprinter

    public init(window: Duration, ignoresSeverity: Bool, rule: FingerprintRule, layout: EventLayout) {
        self.window = window.milliseconds
        severity = !ignoresSeverity
        fingerprinter = Fingerprinter(rule: rule, layout: layout)
    }

    /// The key of an event's bytes, nil without a fingerprint (always sent).
    func key(of bytes: [UInt8]) -> String? {
        fingerprinter.dedupeKey(ofEvent: bytes, severity: severity)?.text
    }

    /// The pairs of `batch` to spool (each message keeps the URLs it is no duplicate for) and
    /// the keys to record; `suppressed` hears every (message, URL, first) left out.
    func admit(
        _ batch: [NewMessage], keys: [String?], ledger: any SpoolDedupeLedger, now: Int64,
        suppressed: (_ messageID: String, _ url: String, _ first: SpooledEntry) -> Void
    ) throws -> (messages: [NewMessage], entries: [SpooledDedupe]) {
        let distinct = Array(Set(keys.compactMap { $0 }))
        var known: [String: [String: SpooledEntry]] = [:]
        for url in Set(batch.flatMap(\.targets)) {
            known[url] = try ledger.spooledDuplicates(endpoint: url, keys: distinct, window: window, now: now)
        }
        var admitted: [NewMessage] = [], entries: [SpooledDedupe] = []
        for (message, key) in zip(batch, keys) {
            guard let key else {
                admitted.append(message)
                continue
            }
            var targets: [String] = []
            for url in message.targets {
                if let first = known[url]?[key] {
                    suppressed(message.messageID, url, first)
                    continue
                }
                known[url, default: [:]][key] = SpooledEntry(messageID: message.messageID, at: now)
                entries.append(SpooledDedupe(endpoint: url, key: key, messageID: message.messageID))
                targets.append(url)
            }
            guard !targets.isEmpty else { continue }
            admitted.append(NewMessage(messageID: message.messageID, body: message.body, targets: targets))
        }
        return (admitted, entries)
    }
}
