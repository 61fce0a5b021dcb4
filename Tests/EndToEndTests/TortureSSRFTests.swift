import Foundation
import Testing

extension TortureSuite {
    /// SSRF (issue 7, 6): every blocked range of the guide, in every spelling, refused by `deliver`,
    /// by `serve` on webhook creation and on change, with no connection reaching a listener; and
    /// `--allow-cidr` opening exactly what it names. SSRFEndToEndTests has the one-address-per-run
    /// cases (loopback spellings against a listener, one address of each range, the messages).
    @Suite struct TortureSSRFTests {
        /// An address of each blocked IPv4 range, as a 32-bit number.
        static let ipv4Ranges: [(range: String, address: UInt32)] = [
            ("0.0.0.0/8", 0x0000_0000), ("10.0.0.0/8", 0x0A01_0203), ("100.64.0.0/10", 0x647F_FFFE), ("127.0.0.0/8", 0x7F00_0001),
            ("169.254.0.0/16", 0xA9FE_A9FE), ("172.16.0.0/12", 0xAC1F_0001), ("192.0.0.0/24", 0xC000_0008),
            ("192.168.0.0/16", 0xC0A8_0101), ("198.18.0.0/15", 0xC613_FF01), ("224.0.0.0/4", 0xEFFF_FFFA), ("240.0.0.0/4", 0xFFFF_FFFF),
        ]

        /// Every way a URL host can denote the IPv4 address `v`: dotted, one number in decimal and
        /// hex, octal and hex parts, the short forms, and embedded in IPv6 (mapped, NAT64, 6to4,
        /// IPv4-compatible).
        static func spellings(of v: UInt32) -> [String] {
            let (a, b, c, d) = (v >> 24, v >> 16 & 0xFF, v >> 8 & 0xFF, v & 0xFF)
            let (high, low) = (String(v >> 16, radix: 16), String(v & 0xFFFF, radix: 16))
            return [
                "\(a).\(b).\(c).\(d)", "\(v)", "0x" + String(v, radix: 16), String(format: "0x%08X", v),
                [a, b, c, d].map { "0" + String($0, radix: 8) }.joined(separator: "."),
                [a, b, c, d].map { "0x" + String($0, radix: 16) }.joined(separator: "."),
                "\(a).\(b).\(c << 8 | d)", "\(a).\(b << 16 | c << 8 | d)",
                "[::ffff:\(a).\(b).\(c).\(d)]", "[::ffff:\(high):\(low)]", "[0:0:0:0:0:FFFF:\(a).\(b).\(c).\(d)]",
                "[64:ff9b::\(high):\(low)]", "[64:ff9b::\(a).\(b).\(c).\(d)]", "[2002:\(high):\(low)::1]", "[::\(a).\(b).\(c).\(d)]",
            ]
        }

        /// The blocked IPv6 ranges without an embedded IPv4 address, each in several spellings, and
        /// names that resolve to loopback.
        static let otherSpellings = [
            "[::]", "[0:0:0:0:0:0:0:0]", "[0000::0000]",
            "[::1]", "[0:0:0:0:0:0:0:1]", "[0000::0001]",
            "[64:ff9b::808:808]",
            "[fc00::1]", "[fdff:ffff:ffff:ffff::1]", "[FD12:3456:789A::1]",
            "[fe80::1]", "[febf:ffff::1]", "[FE80::ABCD]",
            "[ff02::1]", "[ff0e::1]", "[FF05::2]",
            "localhost", "LOCALHOST", "LocalHost",
        ]

        static let hosts = ipv4Ranges.flatMap { spellings(of: $0.address) } + otherSpellings

        @Test func everyBlockedRangeInEverySpellingIsRefusedEverywhere() async throws {
            let listener = try Receiver()
            let allowed = try Receiver(host: "127.0.0.3")
            defer { listener.stop(); allowed.stop() }
            let urls = Self.hosts.map { "http://\($0):\(listener.port)/hook" }

            // deliver: one run, every URL a delivery of its own.
            let run = try await Torture.run(
                ["deliver", "--allow-http", "--connect-timeout", "5s", "--max-attempts", "1"] + urls.flatMap { ["--url", $0] },
                stdin: Data(Deliver.ndjson([#"{"event_type":"finding","id":"ssrf"}"#]).utf8), secret: Deliver.secret)
            #expect(run.status == 69, "\(run.stderr.prefix(2000))")
            let results = try Deliver.results(run.plain)
            #expect(results.count == urls.count)
            let refusedByDeliver = results.filter { $0.status == "failed" && $0.attempts == 1 && $0.error?.contains("blocked range") == true }
            let notRefused = Set(urls).subtracting(refusedByDeliver.map(\.url))
            #expect(notRefused.isEmpty, "not refused: \(notRefused.sorted()) \(results.filter { notRefused.contains($0.url) }.map { $0.error ?? "-" })")
            // No connection was tried: an unroutable address would have taken the 5 s connect timeout.
            let slowest = results.compactMap(\.latencyMilliseconds).max() ?? 0
            #expect(slowest < 4000, "an attempt took \(slowest) ms")

            // serve: refused on creation and on change; the webhook that was allowed keeps its URL.
            let server = try await ServeProcess.started(allowCIDR: ["127.0.0.3/32"])
            defer { server.abandon() }
            let kept = try await server.createWebhook(allowed)
            var createRefused = 0
            var changeRefused = 0
            for url in urls {
                let created = try await server.post("/v1/webhooks", json: ["url": url])
                if created.status == 422, created.errorMessage?.contains("blocked range") == true { createRefused += 1 } else {
                    Issue.record("create \(url): \(created.status) \(created.text)")
                }
                let changed = try await server.request("PATCH", "/v1/webhooks/\(kept.id)", body: try JSONSerialization.data(withJSONObject: ["url": url]))
                if changed.status == 422, changed.errorMessage?.contains("blocked range") == true { changeRefused += 1 } else {
                    Issue.record("change \(url): \(changed.status) \(changed.text)")
                }
            }
            let listed = try #require(try await server.get("/v1/webhooks")["webhooks"] as? [[String: Any]])
            #expect(listed.map { $0["url"] as? String } == [allowed.url])
            #expect(try await server.postEvent(#"{"event_type":"finding","id":"ssrf-allowed"}"#).status == 202)
            #expect(Deliver.ids(try await Serve.waitFor(allowed, 1)) == ["ssrf-allowed"])
            #expect(await server.stop().status == 0)

            #expect(listener.connections == 0, "a blocked spelling reached the listener")
            #expect(createRefused == urls.count && changeRefused == urls.count)
            Torture.report(
                "ssrf: \(urls.count) spellings of \(Self.ipv4Ranges.count) IPv4 and 5 IPv6 blocked ranges and localhost: refused by deliver "
                    + "\(refusedByDeliver.count)/\(urls.count) (slowest \(slowest) ms), serve create \(createRefused)/\(urls.count), "
                    + "serve change \(changeRefused)/\(urls.count); connections to the listener \(listener.connections)")
        }

        @Test func allowCIDROpensExactlyWhatItNames() async throws {
            let one = try Receiver()
            let two = try Receiver(host: "127.0.0.2")
            defer { one.stop(); two.stop() }
            let admitted = ["127.0.0.1", "2130706433", "0x7f000001", "127.1", "[::ffff:127.0.0.1]"].map { "http://\($0):\(one.port)/hook" }
            let refused = ["127.0.0.2", "2130706434", "0x7f000002", "127.2", "[::ffff:127.0.0.2]", "[64:ff9b::7f00:2]"].map { "http://\($0):\(two.port)/hook" }
            let run = try await Torture.run(
                ["deliver", "--allow-http", "--allow-cidr", "127.0.0.1/32", "--max-attempts", "1"] + (admitted + refused).flatMap { ["--url", $0] },
                stdin: Data(Deliver.ndjson([#"{"event_type":"finding","id":"cidr"}"#]).utf8), secret: Deliver.secret)
            #expect(run.status == 69, "\(run.stderr)")
            let results = try Deliver.results(run.plain)
            #expect(Set(results.filter { $0.status == "delivered" }.map(\.url)) == Set(admitted))
            #expect(Set(results.filter { $0.error?.contains("blocked range") == true }.map(\.url)) == Set(refused))
            #expect(one.requests.count == admitted.count)
            #expect(two.connections == 0, "127.0.0.2 was reached")

            let server = try await ServeProcess.started(allowCIDR: ["127.0.0.1/32"])
            defer { server.abandon() }
            var created: [String] = []
            for url in admitted {
                let response = try await server.post("/v1/webhooks", json: ["url": url])
                #expect(response.status == 201, "\(url): \(response.text)")
                if let id = response.string("id") { created.append(id) }
            }
            for url in refused {
                let response = try await server.post("/v1/webhooks", json: ["url": url])
                #expect(response.status == 422 && response.errorMessage?.contains("blocked range") == true, "\(url): \(response.text)")
                let changed = try await server.request("PATCH", "/v1/webhooks/\(created.first ?? "")", body: try JSONSerialization.data(withJSONObject: ["url": url]))
                #expect(changed.status == 422, "\(url): \(changed.text)")
            }
            #expect(await server.stop().status == 0)
            #expect(two.connections == 0)
            Torture.report(
                "ssrf --allow-cidr 127.0.0.1/32: admitted \(results.filter { $0.status == "delivered" }.count)/\(admitted.count) spellings of 127.0.0.1 "
                    + "(deliver) and \(created.count)/\(admitted.count) (serve); refused \(refused.count)/\(refused.count) spellings of 127.0.0.2; "
                    + "connections to 127.0.0.2: \(two.connections)")
        }
    }
}
