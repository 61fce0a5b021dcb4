/// `deliver --dedupe-window`'s ledger: what was spooled (accepted for delivery) to each URL,
/// by de-duplication key, decided when a record is read (a template renders the event then,
/// and the fingerprint is the event's). The spool keeps it in `dedupe_ledger` (rows with
/// `delivery` 0 and the `message_id`), so a later run does not send again what an earlier one
/// spooled within the window; without a spool ``MemoryDedupeLedger`` holds it for the run.
public protocol SpoolDedupeLedger: AnyObject {
    /// Of `keys`, those spooled to `endpoint` after `now - window`: the first message and when.
    func spooledDuplicates(endpoint: String, keys: [String], window: Int64, now: Int64) throws -> [String: SpooledEntry]
}

/// A key spooled before: which message carried it, and when.
public struct SpooledEntry: Sendable, Equatable {
    public var messageID: String
    public var at: Int64

    public init(messageID: String, at: Int64) {
        self.messageID = messageID
        self.at = at
    }
}

/// A key spooled now to a URL, by a message.
public struct SpooledDedupe: Sendable, Equatable {
    public var endpoint: String
    public var key: String
    public var messageID: String

    public init(endpoint: String, key: String, messageID: String) {
        self.endpoint = endpoint
        self.key = key
        self.messageID = messageID
    }
}

/// The ledger of a `deliver` run without a spool: at most ``capacity`` keys (1,000,000 by
/// default, about 150 bytes each with their URL and message id shared), the oldest recorded
/// forgotten first when it is full.
public final class MemoryDedupeLedger: SpoolDedupeLedger {
    public let capacity: Int
    private var entries: [String: [String: SpooledEntry]] = [:]
    private var order: [(endpoint: String, key: String)] = []
    private var start = 0
    private var count = 0

    public init(capacity: Int = 1_000_000) {
        self.capacity = capacity
    }

    public func spooledDuplicates(endpoint: String, keys: [String], window: Int64, now: Int64) -> [String: SpooledEntry] {
        guard let known = entries[endpoint] else { return [:] }
        var found: [String: SpooledEntry] = [:]
        for key in keys { if let entry = known[key], entry.at > now - window { found[key] = entry } }
        return found
    }

    public func recordSpooled(_ spooled: [SpooledDedupe], window: Int64, now: Int64) {
        for entry in spooled {
            if entries[entry.endpoint]?.updateValue(SpooledEntry(messageID: entry.messageID, at: now), forKey: entry.key) != nil { continue }
            entries[entry.endpoint, default: [:]][entry.key] = SpooledEntry(messageID: entry.messageID, at: now)
            order.append((entry.endpoint, entry.key))
            count += 1
            while count > capacity {
                let oldest = order[start]
                entries[oldest.endpoint]?[oldest.key] = nil
                start += 1
                count -= 1
            }
            if start > 4096, start * 2 > order.count {
                order.removeFirst(start)
                start = 0
            }
        }
    }
}
