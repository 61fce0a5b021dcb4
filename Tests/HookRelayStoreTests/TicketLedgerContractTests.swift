import Foundation
import HookRelayCore
import Testing
@testable import HookRelayStore

/// The ticket ledger (issue 19), alike on every backend: who creates a finding's ticket, what
/// the others wait for, the ticket kept once made, noted on its deliveries, and forgotten on
/// a close and with its webhook.
@Suite struct TicketLedgerContractTests {
    /// Three deliveries of one finding to webhook `a`, claimed.
    func claimedThree(_ store: any ServeStore) throws -> [ClaimedDelivery] {
        _ = try store.ingest((1...3).map { IngestedEvent(id: "e\($0)", body: Array("{}".utf8), targets: [(webhook: "a", skipped: false)]) }, now: 0)
        return try store.claim(limit: 10, now: 1, lease: 60_000)
    }

    @Test(arguments: StoreKind.allCases)
    func oneDeliveryCreatesTheOthersWaitThenComment(_ kind: StoreKind) throws {
        let (store, open) = try kind.make()
        let claimed = try claimedThree(store)
        let (first, second) = (claimed[0].id, claimed[1].id)
        #expect(try store.ticketStep(webhook: "a", fingerprint: "fnd_1", delivery: first, now: 10) == .create)
        // The first is in flight (leased until 60,001): the second looks again shortly.
        #expect(try store.ticketStep(webhook: "a", fingerprint: "fnd_1", delivery: second, now: 11)
            == .wait(until: 11 + TicketTiming.waitMargin, creator: first))
        // A retry of the creator creates again; another finding is another ticket.
        #expect(try store.ticketStep(webhook: "a", fingerprint: "fnd_1", delivery: first, now: 12) == .create)
        #expect(try store.ticketStep(webhook: "a", fingerprint: "fnd_2", delivery: second, now: 12) == .create)
        try store.ticketCreated(webhook: "a", fingerprint: "fnd_1", delivery: first, ticket: "SEC-1", now: 13)
        #expect(try store.ticket(webhook: "a", fingerprint: "fnd_1") == "SEC-1")
        #expect(try store.ticketStep(webhook: "a", fingerprint: "fnd_1", delivery: second, now: 14)
            == .existing(ticket: "SEC-1", closeCommented: false))
        try store.noteTicket(delivery: second, TicketNote(ticket: "SEC-1", action: .commented))
        let reader = try open(.reader)
        #expect(try reader.delivery(id: first)?.record.ticket == TicketNote(ticket: "SEC-1", action: .created))
        #expect(try reader.delivery(id: second)?.record.ticket == TicketNote(ticket: "SEC-1", action: .commented))
        #expect(try reader.delivery(id: claimed[2].id)?.record.ticket == nil)
        // Webhook `b` has tickets of its own.
        #expect(try store.ticket(webhook: "b", fingerprint: "fnd_1") == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func aCreatorThatFailedIsTakenOver(_ kind: StoreKind) throws {
        let (store, _) = try kind.make()
        let claimed = try claimedThree(store)
        #expect(try store.ticketStep(webhook: "a", fingerprint: "f", delivery: claimed[0].id, now: 10) == .create)
        // Waiting for its retry at 5,000: the others wait until just after it.
        _ = try store.complete([outcome(claimed[0], .retry(at: 5000), status: 500)], now: 20)
        #expect(try store.ticketStep(webhook: "a", fingerprint: "f", delivery: claimed[1].id, now: 21)
            == .wait(until: 5000 + TicketTiming.waitMargin, creator: claimed[0].id))
        let retried = try #require(try store.claim(limit: 1, now: 5000, lease: 100).first)
        _ = try store.complete([outcome(retried, .failed, status: 500)], now: 5001)
        #expect(try store.ticketStep(webhook: "a", fingerprint: "f", delivery: claimed[1].id, now: 21) == .create)
        // Now the second one holds it.
        if case .wait(_, let creator) = try store.ticketStep(webhook: "a", fingerprint: "f", delivery: claimed[2].id, now: 22) {
            #expect(creator == claimed[1].id)
        } else {
            Issue.record("the third delivery did not wait for the second")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aCloseIsRememberedUntilDoneThenTheFindingIsForgotten(_ kind: StoreKind) throws {
        let (store, _) = try kind.make()
        let claimed = try claimedThree(store)
        #expect(try store.ticketStep(webhook: "a", fingerprint: "f", delivery: claimed[0].id, now: 10) == .create)
        try store.ticketCreated(webhook: "a", fingerprint: "f", delivery: claimed[0].id, ticket: "7", now: 11)
        try store.ticketCloseCommented(webhook: "a", fingerprint: "f", delivery: claimed[1].id, now: 12)
        #expect(try store.ticketStep(webhook: "a", fingerprint: "f", delivery: claimed[1].id, now: 13) == .existing(ticket: "7", closeCommented: true))
        #expect(try store.ticketStep(webhook: "a", fingerprint: "f", delivery: claimed[2].id, now: 13) == .existing(ticket: "7", closeCommented: false))
        try store.forgetTicket(webhook: "a", fingerprint: "f")
        #expect(try store.ticket(webhook: "a", fingerprint: "f") == nil)
        #expect(try store.ticketStep(webhook: "a", fingerprint: "f", delivery: claimed[2].id, now: 14) == .create)
        // A creation whose answer named no ticket leaves nothing behind.
        try store.ticketCreated(webhook: "a", fingerprint: "f", delivery: claimed[2].id, ticket: nil, now: 15)
        #expect(try store.ticketStep(webhook: "a", fingerprint: "f", delivery: claimed[1].id, now: 16) == .create)
    }

    @Test(arguments: StoreKind.allCases)
    func deletingTheWebhookForgetsItsTickets(_ kind: StoreKind) throws {
        let (store, _) = try kind.make()
        try store.save(Webhook(id: "a", url: "https://jira.example/rest/api/2/issue", secrets: ["whsec_x"], now: 0))
        let claimed = try claimedThree(store)
        #expect(try store.ticketStep(webhook: "a", fingerprint: "f", delivery: claimed[0].id, now: 10) == .create)
        try store.ticketCreated(webhook: "a", fingerprint: "f", delivery: claimed[0].id, ticket: "SEC-9", now: 11)
        #expect(try store.beginDeletingWebhook(id: "a"))
        #expect(try store.ticket(webhook: "a", fingerprint: "f") == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func ticketSettingsAreStoredWithTheWebhook(_ kind: StoreKind) throws {
        let (store, open) = try kind.make()
        var webhook = Webhook(id: "t", url: "https://api.github.com/repos/o/r/issues", secrets: ["whsec_x"], now: 0)
        webhook.template = "github-issue"
        webhook.tickets = TicketSettings(mode: .update, close: "close", fixedStatuses: ["done"], commentTemplate: #"{"body":"{{title}}"}"#)
        try store.save(webhook)
        #expect(try open(.reader).webhook(id: "t")?.tickets == webhook.tickets)
        webhook.tickets = nil
        webhook.updatedAt = 5
        #expect(try store.updateSettings(webhook)?.tickets == nil)
    }
}
