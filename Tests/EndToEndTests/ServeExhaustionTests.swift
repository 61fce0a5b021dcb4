import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Clients that stall, pile up, send what is refused, or guess the token (issue 12,
/// Exhaustion and Access), against the real binary: these are about the wire and the process.
@Suite struct ServeExhaustionTests {
    /// Short timeouts, so a test waits a second, not ten.
    static let quick: [String: any Sendable] = ["header_timeout": "1s", "body_timeout": "1s", "idle_timeout": "2s"]

    @Test func aClientThatStopsInItsHeaderIsClosedAfterTheHeaderTimeout() async throws {
        let server = try await ServeProcess.started(config: Self.quick)
        defer { server.abandon() }
        let silent = try StallingClient(port: server.port)
        let partial = try StallingClient(port: server.port)
        #expect(partial.send("POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl"))
        async let silentEnd = silent.readUntilClosed(timeout: 10)
        async let partialEnd = partial.readUntilClosed(timeout: 10)
        for (name, end) in [("silent", await silentEnd), ("partial header", await partialEnd)] {
            #expect(end.closed, "\(name): still open after 10 s")
            #expect(end.seconds < 3, "\(name): closed after \(end.seconds) s; the header timeout is 1 s")
        }
        #expect(try await server.get("/healthz").status == 200)
    }

    @Test func aBodyThatStopsOrTricklesIsClosedAfterTheBodyTimeout() async throws {
        let server = try await ServeProcess.started(config: Self.quick.merging(["body_min_rate": 1000]) { $1 })
        defer { server.abandon() }
        let head = "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(server.token ?? "")\r\n"
            + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
        let stopped = try StallingClient(port: server.port)
        #expect(stopped.send(head + #"{"id":"#))
        let stoppedEnd = await stopped.readUntilClosed(timeout: 10)
        #expect(stoppedEnd.closed && stoppedEnd.seconds < 3, "a stopped body: closed \(stoppedEnd.closed) after \(stoppedEnd.seconds) s")

        // 100 bytes every 0.3 s is 333 B/s, under the minimum of 1,000 B/s; never silent for a second.
        let trickle = try StallingClient(port: server.port)
        #expect(trickle.send(head))
        let started = Date()
        let sender = Task.detached {
            while Date().timeIntervalSince(started) < 10 {
                guard trickle.send(Data(repeating: UInt8(ascii: " "), count: 100)) else { return }
                try? await Task.sleep(for: .milliseconds(300))
            }
        }
        let trickleEnd = await trickle.readUntilClosed(timeout: 12)
        sender.cancel()
        #expect(trickleEnd.closed && trickleEnd.seconds < 6, "a trickle: closed \(trickleEnd.closed) after \(trickleEnd.seconds) s")
    }

    @Test func theConnectionCapHoldsNewConnectionsUntilSomeClose() async throws {
        let server = try await ServeProcess.started(config: ["max_connections": 4, "header_timeout": "60s", "idle_timeout": "60s"])
        defer { server.abandon() }
        #expect(server.log.contains("max_connections=4"), "\(server.log)")
        var quiet = try (0..<4).map { _ in try StallingClient(port: server.port) }
        // Past the cap: accepted by the kernel, not served.
        let waiting = (0..<3).map { _ in Task { await HealthProbe.once(port: server.port, timeout: 20) } }
        try await Serve.pause(1.5)
        #expect(try await Serve.waitUntil(timeout: 5) { server.log.contains("connection cap reached") }, "\(server.log)")
        let probe = try StallingClient(port: server.port)
        probe.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        let held = await probe.readUntilClosed(timeout: 1)
        #expect(held.data.isEmpty && !held.closed, "answered past the cap: \(String(decoding: held.data, as: UTF8.self))")

        let freed = Date()
        quiet.removeAll()
        for task in waiting {
            let seconds = await task.value
            #expect(seconds != nil, "a waiting /healthz got no answer once the cap dropped")
        }
        let afterDrop = Date().timeIntervalSince(freed)
        // Loose: under the whole suite, this machine took 6.5 s (alone: well under a second).
        print("connection cap: the requests that waited were answered \(String(format: "%.2f", afterDrop)) s after the cap dropped")
        #expect(afterDrop < 15, "the waiting requests were answered \(afterDrop) s after the cap dropped")
        #expect(try await server.get("/healthz").status == 200)
        let reports = server.log.components(separatedBy: "connection cap reached").count - 1
        #expect(reports == 1, "the cap was reported \(reports) times for one burst:\n\(server.log)")
    }

    @Test func aWrongTokenWithALargeBodyIsAnsweredAndClosed() async throws {
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        let client = try StallingClient(port: server.port)
        let gigabyte = 1 << 30
        #expect(client.send(
            "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer wrong-token-0123456789\r\n"
                + "Content-Type: application/x-ndjson\r\nContent-Length: \(gigabyte)\r\n\r\n"))
        let started = Date()
        // Sends until the server stops taking the body: at most 256 MiB here.
        let sent = await StallingClient.blocking {
            let chunk = Data(repeating: UInt8(ascii: "\n"), count: 1 << 20)
            var sent = 0
            while sent < 256 << 20, Date().timeIntervalSince(started) < 20, client.send(chunk) { sent += chunk.count }
            return sent
        }
        let seconds = Date().timeIntervalSince(started)
        let answer = await client.readUntilClosed(timeout: 5)
        print("401 with a 1 GiB body: the server took \(sent >> 20) MiB before closing, in \(String(format: "%.2f", seconds)) s")
        #expect(sent < 64 << 20, "the server read on: \(sent >> 20) MiB of an unauthenticated body")
        // The loop's own bound: reaching it means the server neither closed nor stopped reading.
        // (Alone this takes milliseconds; a fresh-clone CI run under the whole suite took 10.6 s.)
        #expect(seconds < 20, "the server kept the connection for \(seconds) s")
        #expect(answer.closed)
        if let status = StallingClient.status(answer.data) { #expect(status == 401) }
    }

    /// CPU seconds (user and system) a process has used, from /proc.
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after "(comm)": state is the 3rd field, utime the 14th, stime the 15th.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test func parsingStopsWhenTheClientGoesAway() async throws {
        let server = try await ServeProcess.started()
        defer { server.abandon() }
        let pid = try #require(server.pid)
        var batch = Data()
        for _ in 0..<1_000_000 { batch.append(contentsOf: Array(#"{"a":1}"#.utf8) + [10]) }
        let client = try StallingClient(port: server.port)
        client.send(
            "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(server.token ?? "")\r\n"
                + "Content-Type: application/x-ndjson\r\nContent-Length: \(batch.count)\r\n\r\n")
        let payload = batch
        #expect(await StallingClient.blocking { client.send(payload) })
        // Parsing a million events takes seconds; the client leaves at once.
        try await Serve.pause(0.5)
        shutdown(client.fd, Int32(SHUT_RDWR))
        // What the server had already read is parsed up to the next check; 3 s covers that
        // under a loaded suite (1 s did not once in CI: 2.2 CPU s in the window). Parsing the
        // whole batch takes about 14 s in a debug build, so a parse that went on still shows.
        try await Serve.pause(3)
        let before = try #require(Self.cpuSeconds(pid))
        try await Serve.pause(2)
        let after = try #require(Self.cpuSeconds(pid))
        print("after the client left: \(String(format: "%.2f", after - before)) CPU seconds in 2 s")
        #expect(after - before < 0.5, "serve kept parsing for a client that left: \(after - before) CPU s in 2 s")
        #expect(try await server.get("/healthz").status == 200)
    }

    @Test func wrongTokensAreHeldOffWith429AndLoggedOnce() async throws {
        // A first wait of a minute, not a second, so that a loaded machine cannot outwait it.
        let server = try await ServeProcess.started(config: ["auth_backoff": "60s"])
        defer { server.abandon() }
        var statuses: [Int] = []
        for _ in 0..<8 {
            statuses.append(try await server.request("GET", "/v1/webhooks", authorization: "Bearer wrong-token-0123456789").status)
        }
        #expect(statuses == [401, 401, 401, 401, 401, 429, 429, 429], "\(statuses)")
        // While held off, even the right token waits: guessing gains nothing.
        #expect(try await server.get("/v1/webhooks").status == 429)
        let login = try await server.request(
            "POST", "/ui/login", body: Data("token=wrong".utf8), contentType: "application/x-www-form-urlencoded", authorization: .some(nil))
        #expect(login.status == 429, "the login form shares the backoff: \(login.status)")
        let lines = server.log.split(separator: "\n").filter { $0.contains("wrong API tokens") }
        #expect(lines.count == 1, "\(lines)")
        #expect(!server.log.contains("wrong-token-0123456789"))
        // Without a token header nothing is guessed, so nothing counts: /healthz and such stay open.
        #expect(try await server.request("GET", "/healthz", authorization: .some(nil)).status == 200)
    }

    @Test func aShortTokenIsRefusedAtStart() async throws {
        let scratch = try ScratchDirectory()
        let arguments = ["serve", "--db", scratch.path("x.db"), "--listen", "127.0.0.1:0"]
        let short = try HookRelayProcess.run(arguments, environment: HookRelayProcess.environment(adding: ["HOOKRELAY_TOKEN": "short-token"]))
        #expect(short.status == 64, "\(short.status) \(short.stderr)")
        #expect(short.stderr.contains("HOOKRELAY_TOKEN has 11 characters; it needs at least 16"), "\(short.stderr)")
        #expect(!short.stderr.contains("short-token"), "the token is in the message")
        let file = try scratch.file("token", "short-token\n")
        chmod(file, 0o600)
        let fromFile = try HookRelayProcess.run(arguments + ["--token-file", file])
        #expect(fromFile.status == 64, "\(fromFile.status) \(fromFile.stderr)")
        #expect(fromFile.stderr.contains("at least 16"), "\(fromFile.stderr)")
    }

    @Test func aTokenFileOthersMayReadIsRefusedAtStart() async throws {
        let scratch = try ScratchDirectory()
        let file = try scratch.file("token", "a-long-enough-token-0123456789\n")
        chmod(file, 0o644)
        let arguments = ["serve", "--db", scratch.path("x.db"), "--listen", "127.0.0.1:0", "--token-file", file]
        let open = try HookRelayProcess.run(arguments)
        #expect(open.status == 64, "\(open.status) \(open.stderr)")
        #expect(open.stderr.contains("may be read by other users (mode 644): run chmod 600 \(file)"), "\(open.stderr)")
        // The token file next to the database is held to the same rule.
        chmod(file, 0o600)
        let database = scratch.path("y.db")
        try FileManager.default.copyItem(atPath: file, toPath: database + ".token")
        chmod(database + ".token", 0o640)
        let beside = try HookRelayProcess.run(["serve", "--db", database, "--listen", "127.0.0.1:0"])
        #expect(beside.status == 64, "\(beside.status) \(beside.stderr)")
    }
}
