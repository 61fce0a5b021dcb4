import ArgumentParser
import Foundation
import HookRelayDelivery

/// `deliver`'s proxy and TLS material: for this run only (a spool does not record them; give
/// them again to a drain).
struct EgressOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Send through this HTTP proxy, http://[user:password@]host:port (CONNECT for https); 'env' reads HTTPS_PROXY, HTTP_PROXY and NO_PROXY.",
        valueName: "url"))
    var proxy: String?

    @Option(help: ArgumentHelp("A PEM file with a client certificate (chain) for receivers that require mutual TLS.", valueName: "file"))
    var clientCert: String?

    @Option(help: ArgumentHelp("A PEM file with the client certificate's private key (unencrypted).", valueName: "file"))
    var clientKey: String?

    @Option(help: ArgumentHelp("A PEM file of CA certificates trusted besides the system's.", valueName: "file"))
    var caFile: String?

    /// The proxy; nil: none.
    func egressProxy(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> EgressProxy? {
        guard let proxy else { return nil }
        do {
            return try EgressProxy.parse(proxy, environment: environment, source: "--proxy")
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The client certificate and trust, read and checked (a missing file exits 66, bad PEM 64).
    func tls() throws -> TLSOptions {
        let options = TLSOptions(
            certificate: try clientCert.map { try pemFile($0, option: "--client-cert") },
            key: try clientKey.map { try pemFile($0, option: "--client-key") },
            addedCA: try caFile.map { try pemFile($0, option: "--ca-file") })
        do {
            try options.check()
        } catch {
            throw ValidationError("--client-cert/--client-key/--ca-file: \(error.description)")
        }
        return options
    }
}

/// The text of a PEM file an option names (`deliver`'s and `webhooks`' certificate options); a
/// file that cannot be read exits 66.
func pemFile(_ file: String, option: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: file) else {
        throw CommandFailure(status: .noInput, message: "\(file): the \(option) file cannot be read; check the path and its permissions")
    }
    return String(decoding: data, as: UTF8.self)
}
