import Foundation
import HookRelayDelivery

extension ServeConfiguration {
    /// The config's `proxy` (a URL, `env` for `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`, or `none`)
    /// and `ca_file` (PEM certificates trusted besides the system's for every webhook without
    /// a `ca` of its own).
    public mutating func applyEgress(
        proxy: String?, caFile: String?, path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        if let proxy {
            do {
                sender.proxy = try EgressProxy.parse(proxy, environment: environment, source: "proxy")
            } catch {
                throw Problem(description: "\(path): \(error.description)")
            }
        }
        if let caFile {
            sender.tls.addedCA = try Self.readCAFile(caFile, source: "\(path): ca_file")
        }
    }

    /// A CA file's PEM text, checked; `source` names the setting in messages.
    public static func readCAFile(_ file: String, source: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Problem(description: "\(source) \(file) cannot be read; check the path and its permissions")
        }
        let text = String(decoding: data, as: UTF8.self)
        do {
            try TLSOptions(addedCA: text).check()
        } catch {
            throw Problem(description: "\(source) \(file): \(error.description)")
        }
        return text
    }
}
