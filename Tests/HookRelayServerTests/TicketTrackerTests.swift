import Foundation
@testable import HookRelayAdmin
import Testing

/// How a ticket's reference is read from the tracker's answer and put into URLs (issue 19):
/// only a reference of the tracker's own shape is used, so an answer cannot steer a comment
/// to another path.
@Suite struct TicketTrackerTests {
    @Test func theReferenceIsReadFromWholeAndCutAnswers() {
        #expect(TicketTracker.jira.ticket(inResponse: Array(#"{"id":"10001","key":"SEC-12","self":"https://j/rest/api/2/issue/10001"}"#.utf8)) == "SEC-12")
        #expect(TicketTracker.github.ticket(inResponse: Array(#"{"url":"https://api.github.com/repos/a/b/issues/7","id":99,"number":7,"title":"x"}"#.utf8)) == "7")
        // Cut at 4 KiB, no longer JSON: the member is found in the text.
        let cut = #"{"url":"u","id":99,"node_id":"I_1","number":42,"user":{"login":"a","padding":"xxxxxxxx"#
        #expect(TicketTracker.github.ticket(inResponse: Array(cut.utf8)) == "42")
        #expect(TicketTracker.jira.ticket(inResponse: Array(#"{"id":"1","key":"OPS-3","fields":{"summary":"cut here"#.utf8)) == "OPS-3")
    }

    @Test func aReferenceOfAnotherShapeIsNotUsed() {
        for body in [#"{"key":"../../admin"}"#, #"{"key":"SEC-12/comment?x="}"#, #"{"key":"SEC"}"#, #"{"key":12}"#, #"{"id":"1"}"#, "not json"] {
            #expect(TicketTracker.jira.ticket(inResponse: Array(body.utf8)) == nil, "\(body)")
        }
        for body in [#"{"number":"7/comments"}"#, #"{"number":-1}"#, #"{"number":1.5}"#, "{}"] {
            #expect(TicketTracker.github.ticket(inResponse: Array(body.utf8)) == nil, "\(body)")
        }
    }

    @Test func commentAndCloseURLsAreMadeFromTheCreateURL() {
        #expect(TicketTracker.jira.commentURL("https://j.example/rest/api/2/issue/", ticket: "SEC-1") == "https://j.example/rest/api/2/issue/SEC-1/comment")
        #expect(TicketTracker.jira.closeURL("https://j.example/rest/api/2/issue", ticket: "SEC-1") == "https://j.example/rest/api/2/issue/SEC-1/transitions")
        #expect(TicketTracker.github.commentURL("https://api.github.com/repos/a/b/issues", ticket: "7") == "https://api.github.com/repos/a/b/issues/7/comments")
        #expect(TicketTracker.github.closeURL("https://api.github.com/repos/a/b/issues", ticket: "7") == "https://api.github.com/repos/a/b/issues/7")
        #expect(TicketTracker.jira.problem(url: "https://j.example/jira/rest/api/2/issue") == nil)
        #expect(TicketTracker.jira.problem(url: "https://j.example/rest/api/3/issue") != nil)
        #expect(TicketTracker.github.problem(url: "https://ghe.example/api/v3/repos/a/b/issues") == nil)
        #expect(TicketTracker.github.problem(url: "https://api.github.com/repos/a/issues") != nil)
    }

    @Test func jirasCloseCarriesTheCommentInTheTransition() throws {
        let body = TicketTracker.jira.closeBody(transition: "31", comment: Array(#"{"body":"fixed"}"#.utf8))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect((object["transition"] as? [String: Any])?["id"] as? String == "31")
        let comments = (object["update"] as? [String: Any])?["comment"] as? [[String: Any]]
        #expect((comments?.first?["add"] as? [String: Any])?["body"] as? String == "fixed")
    }
}
