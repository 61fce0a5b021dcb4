import HTTPTypes
import HookRelayCore
import Hummingbird
import NIOCore

/// Answers one request of `hookrelay receive`: method, size, signature, body, then the ledger
/// decides whether the event is written. Every refusal is one line on standard error.
struct ReceiveHandler: Sendable {
    let configuration: ReceiveConfiguration
    let ledger: ReceiveLedger
    let diagnostics: Diagnostics
    let now: @Sendable () -> Int64

    static let webhookID = HTTPField.Name("webhook-id")!
    static let webhookTimestamp = HTTPField.Name("webhook-timestamp")!
    static let webhookSignature = HTTPField.Name("webhook-signature")!
    static let hubSignature = HTTPField.Name("x-hub-signature-256")!
    static let githubDelivery = HTTPField.Name("x-github-delivery")!
    static let allow = HTTPField.Name("allow")!

    func respond(to request: Request) async -> Response {
        // The id an event is written once by: Standard Webhooks', else GitHub's delivery id.
        let id = request.headers[Self.webhookID] ?? request.headers[Self.githubDelivery]
        var label = "\(request.method) \(JSONString.printable(request.uri.path))"
        if let id { label += " webhook-id=\(JSONString.logfmt(id))" }

        guard request.method == .post else {
            return refuse(.methodNotAllowed, label, "only POST is accepted", headers: [Self.allow: "POST"])
        }
        let limit = configuration.maxBodyBytes
        let tooLarge = "the body is larger than --max-body (\(ByteCount.format(limit)))"
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            return refuse(.contentTooLarge, label, tooLarge)
        }
        let body: [UInt8]
        do {
            var buffer = try await request.body.collect(upTo: limit)
            body = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch is NIOTooManyBytesError {
            return refuse(.contentTooLarge, label, tooLarge)
        } catch {
            return refuse(.badRequest, label, "the body could not be read: \(error)")
        }

        if !configuration.acceptUnsigned, let reason = verificationFailure(request.headers, body) {
            return refuse(.unauthorized, label, reason)
        }
        if let reason = Self.bodyProblem(body) { return refuse(.badRequest, label, reason) }

        let line = configuration.includeHeaders ? Self.lineWithHeaders(request.headers, body) : Self.oneLine(body)
        let status = HTTPResponse.Status(code: configuration.status)
        switch await ledger.accept(id: id, line: line) {
        case .written:
            return Response(status: status)
        case .repeated:
            diagnostics.report("\(configuration.status) \(label): already written; acknowledged, not written again")
            return Response(status: status)
        case let .failedOnPurpose(number):
            diagnostics.report("503 \(label): failed on purpose (--fail-first, \(number) of \(configuration.failFirst)); not written")
            return Response(status: .serviceUnavailable)
        case .refused:
            diagnostics.report("\(configuration.status) \(label): answered as --status asks; not written")
            return Response(status: status)
        case .outputUnavailable:
            return Response(status: .serviceUnavailable)
        }
    }

    private func refuse(_ status: HTTPResponse.Status, _ label: String, _ reason: String, headers: HTTPFields = [:]) -> Response {
        diagnostics.report("\(status.code) \(label): \(reason)")
        return Response(status: status, headers: headers)
    }

    /// Why the signatures do not verify, or nil when every signature header present does (at
    /// least one must be). Standard Webhooks' also checks the timestamp.
    private func verificationFailure(_ headers: HTTPFields, _ body: [UInt8]) -> String? {
        let standard = headers[Self.webhookSignature]
        let github = headers[Self.hubSignature]
        guard standard != nil || github != nil else {
            return "not signed: no webhook-signature or x-hub-signature-256 header (--unsigned accepts unsigned requests)"
        }
        let id = headers[Self.webhookID]
        let timestamp = headers[Self.webhookTimestamp]
        let secrets = configuration.secrets
        let tolerance = configuration.tolerance
        let current = now()
        let failure = body.withUnsafeBytes { bytes -> Signer.VerificationError? in
            do throws(Signer.VerificationError) {
                if let standard {
                    try Signer.verify(
                        id: id, timestamp: timestamp, signature: standard, body: bytes, secrets: secrets, now: current,
                        tolerance: tolerance)
                }
                if let github { try Signer.verifyGitHub(signature: github, body: bytes, secrets: secrets) }
                return nil
            } catch {
                return error
            }
        }
        return failure.map { "not verified: \($0)" }
    }

    /// Why the body is not an event: not UTF-8 (as the reference verifiers require), not JSON,
    /// or not an object.
    static func bodyProblem(_ body: [UInt8]) -> String? {
        guard String(validating: body, as: UTF8.self) != nil else { return "the body is not UTF-8" }
        switch body.withUnsafeBytes({ JSONScanner().validateDocument($0) }) {
        case let .failure(error): return "the body is not JSON: \(error)"
        case .success(false): return "the body is JSON but not an object; events are JSON objects"
        case .success(true): return nil
        }
    }

    /// The event on one line: JSON allows line breaks only between tokens, where a space
    /// means the same; whitespace around the value is dropped.
    static func oneLine(_ body: [UInt8]) -> [UInt8] {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard let first = body.firstIndex(where: { !isSpace($0) }), let last = body.lastIndex(where: { !isSpace($0) }) else {
            return []
        }
        return body[first...last].map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 }
    }

    /// `{"headers":{NAME:VALUE,…},"body":EVENT}`: names in lower case and sorted, the values
    /// of a repeated header joined with ", ".
    static func lineWithHeaders(_ headers: HTTPFields, _ body: [UInt8]) -> [UInt8] {
        var values: [String: [String]] = [:]
        for field in headers { values[field.name.canonicalName, default: []].append(field.value) }
        let members = values.keys.sorted().map { name in
            JSONString.quote(name) + ":" + JSONString.quote(values[name, default: []].joined(separator: ", "))
        }
        return Array(("{\"headers\":{" + members.joined(separator: ",") + "},\"body\":").utf8) + oneLine(body) + [UInt8(ascii: "}")]
    }
}
