import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file holding one secret on its first line: the API token file, the database's password
/// file. Refused when other users may read it.
public enum SecretFile {
    /// The file is missing, unreadable or empty.
    public struct Unreadable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The first line, without surrounding spaces. `what` names the file in messages ("the API
    /// token file"). A file that others may read is a ``ServeConfiguration/Problem``.
    public static func read(_ path: String, what: String) throws -> String {
        var status = stat()
        if stat(path, &status) == 0, status.st_mode & 0o077 != 0 {
            throw ServeConfiguration.Problem(description: """
                \(what) \(path) may be read by other users (mode \(String(status.st_mode & 0o777, radix: 8))): \
                run chmod 600 \(path) (and make it owned by the user serve runs as)
                """)
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw Unreadable(description: "cannot read \(what) \(path)") }
        let line = (String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first ?? "").trimmingCharacters(in: .whitespaces)
        guard !line.isEmpty else { throw Unreadable(description: "\(what) \(path) is empty") }
        return line
    }
}
