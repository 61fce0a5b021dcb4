#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Process exit statuses, following sysexits(3) as mail and delivery tools do.
public enum ExitStatus: Int32, Sendable, Comparable {
    case success = 0
    case usage = 64
    case dataError = 65
    case noInput = 66
    case unavailable = 69
    case ioError = 74
    case temporaryFailure = 75

    /// When several things went wrong, the status of the most serious one is reported.
    private var severity: Int {
        switch self {
        case .success: return 0
        case .temporaryFailure: return 1
        case .dataError: return 2
        case .unavailable: return 3
        case .noInput: return 4
        case .usage: return 5
        case .ioError: return 6
        }
    }

    public static func < (lhs: ExitStatus, rhs: ExitStatus) -> Bool { lhs.severity < rhs.severity }
}

/// Writes diagnostics to standard error, each line prefixed `hookrelay: `.
public struct Diagnostics: Sendable {
    public let fd: Int32

    public init(fd: Int32 = 2) { self.fd = fd }

    public func report(_ message: String) {
        write("hookrelay: " + message + "\n")
    }

    /// Writes `text` as it is (for progress lines that rewrite themselves).
    public func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
