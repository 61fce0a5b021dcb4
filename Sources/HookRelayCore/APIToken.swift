import Crypto
import Foundation

/// The bearer token of the daemon's API. Only its digest is kept; a presented token is
/// compared digest to digest in constant time, so neither its bytes nor its length leak
/// through timing.
public struct APIToken: Sendable {
    private let digest: [UInt8]

    public init(_ token: String) {
        digest = Array(SHA256.hash(data: Array(token.utf8)))
    }

    /// A token's SHA-256 as 64 hex digits: what a store keeps of the tokens it issues.
    public static func hexDigest(of token: String) -> String {
        let digits = Array("0123456789abcdef")
        return String(SHA256.hash(data: Array(token.utf8)).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
    }

    /// A new token: `hrt_` and 32 random bytes in base64url.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "hrt_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Whether an `Authorization` header value carries this token (`Bearer TOKEN`, the scheme
    /// in any case).
    public func accepts(authorization: String?) -> Bool {
        guard let authorization, authorization.utf8.count > 7,
              authorization.prefix(7).lowercased() == "bearer " else { return false }
        return matches(String(authorization.dropFirst(7)))
    }

    /// Whether `presented` is this token (a form field, a header's credentials).
    public func matches(_ presented: String?) -> Bool {
        guard let presented, !presented.isEmpty else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(SHA256.hash(data: Array(presented.utf8)), digest) { difference |= a ^ b }
        return difference == 0
    }
}

/// The wall clock as the stores keep time: Unix milliseconds.
public enum UnixTime {
    public static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Unix milliseconds as `2026-11-29T10:17:00Z` (with `fractional`, `2026-11-29T10:17:00.250Z`),
    /// in UTC, as ISO8601DateFormatter writes them, by arithmetic: a formatter made per call cost
    /// a digest's fold a fifth of its time. Times before 1970 are written as 1970's first.
    public static func iso8601(_ milliseconds: Int64, fractional: Bool = false) -> String {
        let ms = max(0, milliseconds)
        let seconds = ms / 1000
        let days = seconds / 86_400
        let second = seconds % 86_400
        // Howard Hinnant's civil_from_days: the proleptic Gregorian date of a day count.
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var text = "\(year)-\(two(month))-\(two(day))T\(two(second / 3600)):\(two(second / 60 % 60)):\(two(second % 60))"
        if fractional {
            let fraction = ms % 1000
            text += fraction < 10 ? ".00\(fraction)" : fraction < 100 ? ".0\(fraction)" : ".\(fraction)"
        }
        return text + "Z"
    }
}

/// A point in time given by a user: RFC 3339 (`2026-11-29T10:00:00Z`), Unix seconds, or a
/// duration meaning that long ago (`24h`).
public enum TimeSpec {
    /// The last second of year 9999: later Unix times are refused rather than overflowing.
    static let latestSeconds: Int64 = 253_402_300_799

    /// Unix milliseconds, or nil when `text` is none of the forms.
    public static func parse(_ text: String, now: Int64) -> Int64? {
        if let seconds = Int64(text) {
            return (0...latestSeconds).contains(seconds) ? seconds * 1000 : nil
        }
        // A duration has its unit (24h, 0.5s): a bare number is Unix seconds, never seconds ago.
        if text.last?.isLetter == true, let ago = Duration(parsing: text) { return now - ago.milliseconds }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        return nil
    }

    public static let forms = "an RFC 3339 time (2026-11-29T10:00:00Z), Unix seconds, or a duration ago (24h)"
}
