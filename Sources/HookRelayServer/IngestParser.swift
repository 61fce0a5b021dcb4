import Dispatch
import HookRelayAdmin
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
    /// The fields read: the filters' (type, severity, asset), the id, and the team's field.
    let layout: EventLayout
    private let inUse = Mutex(0)
    private let queue = DispatchQueue(label: "hookrelay.parse", qos: .utility, attributes: .concurrent)
    /// Records between two looks at whether the client is still connected.
    static let checkEvery = 4096

    init(budget: Int, teamField: String = ServeConfiguration.defaultTeamField) {
        self.budget = budget
        layout = EventLayout(teamPath: teamField)
    }

    /// Which team a request's events belong to.
    enum Destination: Sendable {
        /// The route's or the token's.
        case fixed(String)
        /// Each event's own team field, else `default`: a token that may send to any team.
        case fromEvent
    }

    /// A body's events and deliveries, the ids as the client gave them, and how many events
    /// each team got.
    struct Parsed: Sendable {
        var batch: IngestBatch
        var ids: [String] = []
        var teams: [String: Int] = [:]
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
        in body: ByteBuffer, ndjson: Bool, maxEventBytes: Int, matchers: IngestMatchers, team: Destination,
        connected: @escaping @Sendable () async -> @Sendable () -> Bool
    ) async throws -> Parsed {
        let layout = layout
        if body.readableBytes <= Self.inlineBytes {
            return try Self.parse(body, ndjson: ndjson, maxEventBytes: maxEventBytes, matchers: matchers, team: team, layout: layout, connected: { true })
        }
        let connected = await connected()
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    try Self.parse(
                        body, ndjson: ndjson, maxEventBytes: maxEventBytes, matchers: matchers, team: team, layout: layout, connected: connected)
                })
            }
        }
    }

    private static func parse(
        _ body: ByteBuffer, ndjson: Bool, maxEventBytes limit: Int, matchers: IngestMatchers, team: Destination, layout: EventLayout,
        connected: () -> Bool
    ) throws -> Parsed {
        let reader = RecordReaderConfiguration(selector: layout.selector, maxRecordSize: limit)
        // Grown as records pass, not reserved from the body's size: a body refused (an event too
        // large, say) then costs no second copy of its size.
        var parsed = Parsed(batch: IngestBatch(webhooks: matchers.webhooks))
        var candidates: (team: String, indices: [Int])?
        if case let .fixed(fixed) = team { candidates = (fixed, matchers.indices(of: fixed)) }
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
                    let own: (team: String, indices: [Int])
                    if case .fixed = team {
                        own = candidates!
                    } else {
                        let named = layout.team(of: record).map { String(decoding: $0, as: UTF8.self) } ?? Team.defaultID
                        // Events in a row of one team (the common batch) look its webhooks up once.
                        if let last = candidates, last.team == named {
                            own = last
                        } else {
                            guard Team.isValidID(named) else {
                                throw APIError(
                                    status: .badRequest,
                                    message: "record \(index): its team \"\(named.prefix(80))\" is not a team id (lowercase letters, digits, - and _); nothing was accepted")
                            }
                            own = (named, matchers.indices(of: named))
                            candidates = own
                        }
                    }
                    matchers.addTargets(for: record, among: own.indices, to: &parsed.batch)
                    parsed.batch.append(id: Team.eventKey(id, team: own.team), body: record.bytes)
                    parsed.ids.append(id)
                    parsed.teams[own.team, default: 0] += 1
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
        return parsed
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
