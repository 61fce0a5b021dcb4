import Foundation
import Testing

/// Retries, Retry-After, 410 Gone, timeouts and redirects, seen from the receiver.
@Suite struct DeliverRetryTests {
    static let event = #"{"event_type":"finding","id":"evt-retry","finding":{"severity":"high"}}"#

    @Test func failsTwiceThenDelivered() throws {
        let receiver = try Receiver { _, count in Receiver.Response(status: count <= 2 ? 500 : 204) }
        defer { receiver.stop() }
        let result = try Deliver.run(Deliver.arguments(receiver), input: Deliver.ndjson([Self.event]), secret: Deliver.secret)
        #expect(result.status == 0, "\(result.stderr)")
        let results = try Deliver.results(result)
        #expect(results.count == 1)
        #expect(results.first?.status == "delivered")
        #expect(results.first?.attempts == 3)
        #expect(results.first?.httpStatus == 204)
        #expect(results.first?.webhookID == "evt-retry")
        // Every attempt is the same message, re-signed.
        let requests = receiver.requests
        #expect(requests.count == 3)
        #expect(Set(Deliver.ids(requests)) == ["evt-retry"])
        #expect(requests.allSatisfy { $0.body == Array(Self.event.utf8) })
        for request in requests {
            let signature = try Python.standardSignature(
                secret: Deliver.secret, id: "evt-retry", timestamp: request.headers["webhook-timestamp"] ?? "", body: request.body)
            #expect(request.headers["webhook-signature"] == signature)
        }
    }

    @Test func exhaustedAttemptsFail() throws {
        let receiver = try Receiver { _, _ in Receiver.Response(status: 503, body: "down") }
        defer { receiver.stop() }
        let result = try Deliver.run(
            Deliver.arguments(receiver, extra: ["--max-attempts", "3"]), input: Deliver.ndjson([Self.event]), secret: Deliver.secret)
        #expect(result.status == 75)
        let results = try Deliver.results(result)
        #expect(results.count == 1)
        #expect(results.first?.status == "failed")
        #expect(results.first?.attempts == 3)
        #expect(results.first?.httpStatus == 503)
        #expect(results.first?.error?.contains("503") == true)
        #expect(receiver.requests.count == 3)
    }

    /// 429 and 503 with `Retry-After: 1` hold the next attempt back at least a second, though
    /// the backoff alone would retry after at most 10 ms.
    @Test(arguments: [429, 503])
    func retryAfterDelaysTheNextAttempt(_ status: Int) throws {
        let receiver = try Receiver { _, count in
            count == 1 ? Receiver.Response(status: status, headers: [("Retry-After", "1")]) : Receiver.Response()
        }
        defer { receiver.stop() }
        let result = try Deliver.run(
            ["deliver", "--url", receiver.url] + Deliver.loopback + ["--backoff-base", "10ms", "--backoff-max", "5s", "--timeout", "2s"],
            input: Deliver.ndjson([Self.event]), secret: Deliver.secret)
        #expect(result.status == 0, "\(result.stderr)")
        let requests = receiver.requests
        try #require(requests.count == 2)
        let gap = requests[1].receivedAt.timeIntervalSince(requests[0].receivedAt)
        #expect(gap >= 1.0, "second attempt \(gap) s after the first")
        #expect(gap < 4.0, "second attempt \(gap) s after the first")
        let results = try Deliver.results(result)
        #expect(results.first?.status == "delivered")
        #expect(results.first?.attempts == 2)
    }

    /// The control for the test above: without Retry-After the same backoff retries at once.
    @Test func withoutRetryAfterTheBackoffAloneDecides() throws {
        let receiver = try Receiver { _, count in Receiver.Response(status: count == 1 ? 429 : 204) }
        defer { receiver.stop() }
        let result = try Deliver.run(
            ["deliver", "--url", receiver.url] + Deliver.loopback + ["--backoff-base", "10ms", "--backoff-max", "5s"],
            input: Deliver.ndjson([Self.event]), secret: Deliver.secret)
        #expect(result.status == 0, "\(result.stderr)")
        let requests = receiver.requests
        try #require(requests.count == 2)
        #expect(requests[1].receivedAt.timeIntervalSince(requests[0].receivedAt) < 0.9)
    }

    @Test func retryAfterIsCappedByBackoffMax() throws {
        let receiver = try Receiver { _, count in
            count == 1 ? Receiver.Response(status: 503, headers: [("Retry-After", "3600")]) : Receiver.Response()
        }
        defer { receiver.stop() }
        let started = Date()
        let result = try Deliver.run(
            ["deliver", "--url", receiver.url] + Deliver.loopback + ["--backoff-base", "10ms", "--backoff-max", "300ms"],
            input: Deliver.ndjson([Self.event]), secret: Deliver.secret, timeout: 30)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(receiver.requests.count == 2)
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func goneStopsSendingToThatURLForTheRestOfTheRun() throws {
        let gone = try Receiver { _, _ in Receiver.Response(status: 410) }
        let ok = try Receiver()
        defer { gone.stop(); ok.stop() }
        let events = Deliver.events(20, prefix: "gone")
        let result = try Deliver.run(
            Deliver.arguments(gone, ok, extra: ["--concurrency", "2"]), input: Deliver.ndjson(events), secret: Deliver.secret)
        #expect(result.status == 69)
        // At most the requests already in flight when the first 410 came back.
        #expect(gone.requests.count <= 2, "\(gone.requests.count) requests after 410 Gone")
        #expect(ok.requests.count == 20)
        let results = try Deliver.results(result)
        #expect(results.count == 40)
        let toGone = results.filter { $0.url == gone.url }
        let toOK = results.filter { $0.url == ok.url }
        #expect(toGone.count == 20)
        #expect(toGone.allSatisfy { $0.status == "failed" })
        #expect(toGone.allSatisfy { $0.attempts <= 1 })
        #expect(toGone.contains { $0.httpStatus == 410 })
        #expect(toGone.allSatisfy { $0.error?.contains("410") == true }, "\(toGone.map(\.error))")
        #expect(toOK.count == 20)
        #expect(toOK.allSatisfy { $0.status == "delivered" })
        #expect(Set(toOK.map(\.webhookID)) == Set((0..<20).map { "gone-\($0)" }))
    }

    @Test func aReceiverThatHangsTimesOut() throws {
        let receiver = try Receiver { _, _ in Receiver.Response(hang: true) }
        defer { receiver.stop() }
        let started = Date()
        let result = try Deliver.run(
            Deliver.arguments(receiver, extra: ["--max-attempts", "2"]), input: Deliver.ndjson([Self.event]), secret: Deliver.secret,
            timeout: 30)
        let elapsed = Date().timeIntervalSince(started)
        #expect(!result.timedOut)
        #expect(elapsed < 8, "the run took \(elapsed) s")
        #expect(elapsed >= 1.9, "two 1 s attempts ended after \(elapsed) s")
        #expect(result.status == 75)
        let results = try Deliver.results(result)
        #expect(results.count == 1)
        let line = try #require(results.first)
        #expect(line.status == "failed")
        #expect(line.attempts == 2)
        #expect(line.httpStatus == nil)
        let error = try #require(line.error)
        #expect(error.contains("1s") || error.lowercased().contains("timeout") || error.lowercased().contains("timed out"), "\(error)")
        #expect(receiver.requests.count == 2)
    }

    @Test(arguments: [301, 302, 303, 307, 308])
    func redirectsAreNotFollowed(_ status: Int) throws {
        let target = try Receiver()
        let redirecting = try Receiver { _, _ in Receiver.Response(status: status, headers: [("Location", target.url)]) }
        defer { target.stop(); redirecting.stop() }
        let result = try Deliver.run(
            Deliver.arguments(redirecting, extra: ["--max-attempts", "2"]), input: Deliver.ndjson([Self.event]), secret: Deliver.secret)
        #expect(result.status == 75)
        #expect(target.connections == 0)
        #expect(target.requests.isEmpty)
        #expect(redirecting.requests.count == 2)
        let line = try #require(try Deliver.results(result).first)
        #expect(line.status == "failed")
        #expect(line.attempts == 2)
        #expect(line.httpStatus == status)
        #expect(line.error?.contains("\(status)") == true, "\(line.error ?? "nil")")
    }

    @Test func aRefusedConnectionIsRetriedAndFails() throws {
        let closed = try Receiver()
        let url = closed.url
        closed.stop()
        let started = Date()
        let result = try Deliver.run(
            ["deliver", "--url", url] + Deliver.loopback + Deliver.fast + ["--max-attempts", "2", "--connect-timeout", "1s"],
            input: Deliver.ndjson([Self.event]), secret: Deliver.secret, timeout: 30)
        #expect(result.status == 75)
        #expect(Date().timeIntervalSince(started) < 8)
        let line = try #require(try Deliver.results(result).first)
        #expect(line.status == "failed")
        #expect(line.attempts == 2)
        #expect(line.httpStatus == nil)
        #expect(line.error != nil)
    }
}
