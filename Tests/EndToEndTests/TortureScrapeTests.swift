import Foundation
import Testing

extension TortureSuite {
    /// Scraping during ingest (issue 12): six loops scraping `GET /metrics` as fast as they can
    /// while two clients ingest. A scrape used to count the deliveries (about 1 s at 600k),
    /// holding a read snapshot that kept checkpoints from emptying the WAL: it grew from 36 MB
    /// to 579 MB in 15 s and ingest halved. Now the WAL stays within its checkpoint size.
    @Suite struct TortureScrapeTests {
        static let preload = Torture.scale(60_000, long: 1_000_000)
        static let seconds = Torture.scale(6.0, long: 15.0)
        static let scrapers = 6
        /// The checkpoint size (32 MiB) with room for the transactions committed while one runs.
        static let walBound = 96 * 1024 * 1024

        @Test func scrapingDuringIngestKeepsTheWALBounded() async throws {
            // The webhook is paused: its deliveries wait, so only ingest writes.
            let server = try await ServeProcess.started()
            defer { server.abandon() }
            let webhook = try await server.createWebhook(nil, ["url": "http://127.0.0.1:9/never"])
            #expect(try await server.request("POST", "/v1/webhooks/\(webhook.id)/pause", body: Data()).status == 200)

            let counter = Shared(0)
            func ingest(client: Int, until deadline: Date?, events: Int = .max) async throws -> Int {
                var sent = 0
                while sent < events, deadline.map({ Date() < $0 }) ?? true {
                    var round = 0
                    counter.update { $0 += 1; round = $0 }
                    let batch = (0..<1_000).map { #"{"event_type":"finding","id":"scrape-\#(client)-\#(round)-\#($0)"}"# }
                    let response = try await server.postEvents(batch)
                    try #require(response.status == 202, "\(response.status) \(response.text)")
                    sent += 1_000
                }
                return sent
            }
            func ingestFor(_ seconds: Double) async throws -> Double {
                let deadline = Date().addingTimeInterval(seconds)
                let started = Date()
                let total = try await withThrowingTaskGroup(of: Int.self) { group in
                    for client in 0..<2 { group.addTask { try await ingest(client: client, until: deadline) } }
                    return try await group.reduce(0, +)
                }
                return Double(total) / Date().timeIntervalSince(started)
            }

            _ = try await withThrowingTaskGroup(of: Int.self) { group in
                for client in 0..<2 { group.addTask { try await ingest(client: client, until: nil, events: Self.preload / 2) } }
                return try await group.reduce(0, +)
            }
            let walPath = server.database + "-wal"
            func walSize() -> Int { (try? FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int) ?? 0 }

            let alone = try await ingestFor(Self.seconds)
            let walBefore = walSize()

            let stop = Setting(false)
            let latencies = Shared<[Double]>([])
            let largestWAL = Shared(walBefore)
            let (scraped, withScrapes) = try await withThrowingTaskGroup(of: Double?.self) { group -> (Int, Double) in
                for _ in 0..<Self.scrapers {
                    group.addTask {
                        while !stop.get() {
                            let started = Date()
                            let response = try await server.get("/metrics")
                            try #require(response.status == 200)
                            latencies.update { $0.append(Date().timeIntervalSince(started)) }
                        }
                        return nil
                    }
                }
                group.addTask {
                    while !stop.get() {
                        let size = walSize()
                        largestWAL.update { $0 = max($0, size) }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    return nil
                }
                let rate = try await ingestFor(Self.seconds)
                stop.set(true)
                var result = rate
                for try await value in group { if let value { result = value } }
                return (latencies.value.count, result)
            }
            let times = latencies.value
            let largest = largestWAL.value
            let stored = try await server.get("/metrics").text
                .split(separator: "\n").first { $0.hasPrefix("hookrelay_queue_depth ") }.map(String.init) ?? "?"
            #expect(largest <= Self.walBound, "WAL grew to \(largest) bytes")
            #expect(scraped > 0)
            Torture.report(
                "scrapes during ingest: \(Self.scrapers) loops, \(scraped) scrapes in \(Int(Self.seconds)) s, "
                    + "scrape p50 \(Torture.milliseconds(Torture.percentile(times, 0.5))) p99 \(Torture.milliseconds(Torture.percentile(times, 0.99))), "
                    + "WAL before \(Torture.megabytes(kilobytes: walBefore / 1024)) largest \(Torture.megabytes(kilobytes: largest / 1024)), "
                    + "ingest \(Int(alone)) events/s alone, \(Int(withScrapes)) with scrapes (\(String(format: "%.2f", withScrapes / alone))), \(stored)")
            #expect(await server.stop().status == 0)
        }
    }
}
