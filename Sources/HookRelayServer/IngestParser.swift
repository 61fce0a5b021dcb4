import Dispatch
import HookRelayCore
import HookRelayStore
import NIOCore
import Synchronization

/// Reads `POST /v1/events` bodies into events away from the cooperative pool: a million tiny
/// events take seconds to parse, and on the pool's two threads that stalled every other request
/// (`/healthz` included) for as long. The bytes read and parsed at once are bounded by
/// ``ServeConfiguration/effectiveParseBudget``; a request that does not fit is refused with 503
/// and `Retry-After` rather than queued behind the others.
final class IngestParser: Sendable {
    let budget: Int
    private let inUse = Mutex(0)
    private let queue = DispatchQueue(label: "hookrelay.parse", qos: .utility, attributes: .concurrent)
    /// Records between two looks at whether the client is still connected.
    static let checkEvery = 4096

    init(budget: Int) {
        self.budget = budget
    }

    /// Holds `bytes` of the budget, or says false when the budget has not that much left.
    /// Every reservation granted is given back with ``release(_:)``.
    func reserve(_ bytes: Int) -> Bool {
        inUse.withLock { inUse -> Bool in
            guard inUse + bytes <= budget else { return false }
            inUse += bytes
            return true
        }
    }

    func release(_ bytes: Int) {
        inUse.withLock { $0 -= bytes }
    }

    /// The bytes of the budget held now.
    var bytesInUse: Int { inUse.withLock { $0 } }

    /// The client went away while its body was parsed: nothing was accepted and nobody is told.
    struct ClientGone: Error {}

    /// Bodies up to this size are parsed where they are, in microseconds: the hop to the queue
    /// (and the look at the client) would cost them more than it spares anyone else.
    static let inlineBytes = 64 << 10

    /// The events of a body, each with its deliveries to the webhooks of `matchers`, parsed on
    /// this parser's queue (a small body in place). `connected` is asked now and then; when it
    /// says no, parsing stops with ``ClientGone``.
    func events(
        in body: ByteBuffer, ndjson: Bool, maxEventBytes: Int, matchers: IngestMatchers, team: String,
        connected: @escaping @Sendable () async -> @Sendable () -> Bool
    ) async throws -> IngestBatch {
        if body.readableBytes <= Self.inlineBytes {
            return try Self.parse(body, ndjson: ndjson, maxEventBytes: maxEventBytes, matchers: matchers, team: team, connected: { true })
        }
        let connected = await connected()
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    try Self.parse(body, ndjson: ndjson, maxEventBytes: maxEventBytes, matchers: matchers, team: team, connected: connected)
                })
            }
        }
    }

    private static let layout = EventLayout()
    private static let selector = layout.selector

    private static func parse(
        _ body: ByteBuffer, ndjson: Bool, maxEventBytes limit: Int, matchers: IngestMatchers, team: String, connected: () -> Bool
    ) throws -> IngestBatch {
        let reader = RecordReaderConfiguration(selector: selector, maxRecordSize: limit)
        // Grown as records pass, not reserved from the body's size: a body refused (an event too
        // large, say) then costs no second copy of its size.
        var events = IngestBatch(webhooks: matchers.webhooks)
        let candidates = matchers.indices(of: team)
        var index = 0
        var randomIDs = RandomEventIDs()
        do {
            try body.withUnsafeReadableBytes { bytes in
                try RecordReader.records(in: bytes, configuration: reader) { record in
                    index += 1
                    if !ndjson, index > 1 {
                        throw APIError(status: .badRequest, message: "several JSON values in the body; send one event, or use content-type application/x-ndjson")
                    }
                    if index % checkEvery == 0, !connected() { throw ClientGone() }
                    let eventID = layout.id(of: record)
                    let id = eventID.map { MessageID.make(eventID: $0, body: record.bytes) } ?? randomIDs.next()
                    matchers.addTargets(for: record, among: candidates, to: &events)
                    events.append(id: id, body: record.bytes)
                }
            }
        } catch let invalid as InvalidRecord {
            if case .tooLarge = invalid.error.reason {
                throw APIError(
                    status: .contentTooLarge,
                    message: "event \(index + 1) at byte \(invalid.offset) is larger than max_event_bytes (\(ByteCount.format(limit))); nothing was accepted")
            }
            throw APIError(status: .badRequest, message: "record \(index + 1) at byte \(invalid.offset): \(invalid.error); nothing was accepted")
        }
        return events
    }
}

/// `evt_` and 24 random hexadecimal digits for events without an id, as ``Routes/newEventID()``
/// makes, from random bytes fetched 4 KiB at a time: a byte at a time (a system call each, and
/// `String(format:)`) took four fifths of the time of parsing a million tiny events.
struct RandomEventIDs {
    private var pool = [UInt8](repeating: 0, count: 4096)
    private var used = 4096
    private static let digits = Array("0123456789abcdef".utf8)

    mutating func next() -> String {
        if used + 12 > pool.count {
            var generator = SystemRandomNumberGenerator()
            pool.withUnsafeMutableBytes { bytes in
                for offset in stride(from: 0, to: bytes.count, by: 8) {
                    bytes.storeBytes(of: generator.next() as UInt64, toByteOffset: offset, as: UInt64.self)
                }
            }
            used = 0
        }
        defer { used += 12 }
        return String(unsafeUninitializedCapacity: 28) { text in
            for (index, byte) in "evt_".utf8.enumerated() { text[index] = byte }
            for index in 0..<12 {
                let byte = pool[used + index]
                text[4 + 2 * index] = Self.digits[Int(byte >> 4)]
                text[5 + 2 * index] = Self.digits[Int(byte & 0x0f)]
            }
            return 28
        }
    }
}
