import ArgumentParser
import Foundation
import HookRelayCore

/// Reads a whole body from a file or standard input, exactly as given.
private func readBody(_ path: String?) throws -> [UInt8] {
    if let path, path != "-" {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure(status: .noInput, message: "\(path): cannot be read")
        }
        return Array(data)
    }
    return Array(FileHandle.standardInput.readDataToEndOfFile())
}

struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Print the Standard Webhooks headers for a body.",
        discussion: """
            Reads the body (exact bytes) from FILE or standard input and prints the headers \
            'deliver' would send with it, one 'name: value' per line. The id defaults to the \
            event's "id", else a hash of the body, as 'deliver' does.
            """
    )

    @Option(help: ArgumentHelp("The webhook-id to sign with.", valueName: "id"))
    var id: String?

    @Option(help: ArgumentHelp("The webhook-timestamp (Unix seconds); default now.", valueName: "seconds"))
    var timestamp: Int64?

    @Flag(help: "Print a new random secret (32 bytes, whsec_ form) and exit.")
    var newSecret = false

    @OptionGroup(title: "Signing") var signing: SigningOptions

    @Argument(help: ArgumentHelp("File holding the body; '-' or none reads standard input.", valueName: "file"))
    var file: String?

    func run() throws {
        if newSecret {
            print(WebhookSecret.generate().text)
            return
        }
        let signer = try signing.signer()
        guard !signer.secrets.isEmpty else {
            throw ValidationError("no secret: give --secret-file FILE or set HOOKRELAY_SECRET")
        }
        let body = try readBody(file)
        let headers = body.withUnsafeBytes { bytes in
            let messageID = id ?? MessageID.make(eventID: Self.eventID(in: bytes), body: bytes)
            return signer.headers(id: messageID, timestamp: timestamp ?? Int64(Date().timeIntervalSince1970), body: bytes)
        }
        for (name, value) in headers { print("\(name): \(value)") }
    }

    /// The top-level "id" string of a JSON object body, if it is one.
    static func eventID(in bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        let scanner = JSONScanner(selector: FieldSelector(["id"]))
        guard case .complete(_, _, true) = scanner.scan(bytes, from: 0, isEOF: true) else { return nil }
        return JSONString.bytes(of: scanner.fields[0], in: bytes)
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a received body against its Standard Webhooks headers and a secret.",
        discussion: """
            Reads the body from FILE or standard input. The headers come from --headers FILE \
            ('name: value' lines, as 'hookrelay sign' prints them) or from --id, --timestamp and \
            --signature. Checks as the reference verifiers do: the timestamp within --tolerance \
            of now, and some v1 signature matching some secret.

            Exit status: 0 valid; 64 usage error; 65 the signature or timestamp does not verify; \
            66 a file cannot be read.
            """
    )

    @Option(help: ArgumentHelp("File of received headers, one 'name: value' per line.", valueName: "file"))
    var headers: String?

    @Option(help: ArgumentHelp("The received webhook-id.", valueName: "id"))
    var id: String?

    @Option(help: ArgumentHelp("The received webhook-timestamp.", valueName: "seconds"))
    var timestamp: String?

    @Option(help: ArgumentHelp("The received webhook-signature (one or more 'v1,<base64>' separated by spaces).", valueName: "signature"))
    var signature: String?

    @Option(help: ArgumentHelp("Largest accepted distance between the timestamp and now.", valueName: "duration"))
    var tolerance: String = "5m"

    @OptionGroup(title: "Secrets") var signing: SecretOptions

    @Argument(help: ArgumentHelp("File holding the body; '-' or none reads standard input.", valueName: "file"))
    var file: String?

    func run() throws {
        let secrets = try signing.secrets()
        guard !secrets.isEmpty else { throw ValidationError("no secret: give --secret-file FILE or set HOOKRELAY_SECRET") }
        let tolerance = try parseDuration(tolerance, option: "--tolerance")
        var received: [String: String] = [:]
        if let headers {
            guard let text = try? String(contentsOfFile: headers, encoding: .utf8) else {
                throw CommandFailure(status: .noInput, message: "\(headers): cannot be read")
            }
            for line in text.split(whereSeparator: \.isNewline) {
                guard let colon = line.firstIndex(of: ":") else { continue }
                received[line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] =
                    line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        let body = try readBody(file)
        let failure = body.withUnsafeBytes { bytes -> Signer.VerificationError? in
            do throws(Signer.VerificationError) {
                try Signer.verify(
                    id: id ?? received["webhook-id"], timestamp: timestamp ?? received["webhook-timestamp"],
                    signature: signature ?? received["webhook-signature"], body: bytes, secrets: secrets,
                    now: Int64(Date().timeIntervalSince1970), tolerance: tolerance.components.seconds)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw CommandFailure(status: .dataError, message: "not verified: \(failure)") }
    }
}
