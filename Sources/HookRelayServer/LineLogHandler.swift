import Foundation
import HookRelayAdmin
import HookRelayCore
import Logging

/// Writes one line per log event to standard error, as text or as JSON.
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let format: ServeConfiguration.LogFormat
    let diagnostics = Diagnostics()

    public init(format: ServeConfiguration.LogFormat) {
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let time = Date().formatted(.iso8601)
        switch format {
        case .text:
            // Values quoted as logfmt: a URL or a receiver's text cannot forge a field or a line.
            let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\(JSONString.logfmt("\($0.value)"))" }.joined(separator: " ")
            let message = JSONString.printable("\(event.message)")
            diagnostics.write("\(time) \(event.level) \(message)\(fields.isEmpty ? "" : " " + fields)\n")
        case .json:
            // Values as JSON: numbers given as numbers stay numbers (`attempts`, `http_status`).
            var object = ["time": JSONString.quote(time), "level": JSONString.quote("\(event.level)"), "message": JSONString.quote("\(event.message)")]
            for (key, value) in all { object[key] = Self.json(value) }
            let fields = object.sorted { $0.key < $1.key }.map { "\(JSONString.quote($0.key)):\($0.value)" }
            diagnostics.write("{" + fields.joined(separator: ",") + "}\n")
        }
    }

    static func json(_ value: Logger.MetadataValue) -> String {
        if case let .stringConvertible(convertible) = value {
            switch convertible {
            case let number as any BinaryInteger: return "\(number)"
            case let number as Double where number.isFinite: return "\(number)"
            default: break
            }
        }
        return JSONString.quote("\(value)")
    }
}
