#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Failures writing output.
public enum OutputError: Error, Sendable, CustomStringConvertible {
    /// The reader went away (`| head`): not an error for a pipeline stage, which just stops.
    case brokenPipe
    case writeFailed(path: String, errno: Int32)
    case cannotCreate(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .brokenPipe: return "output closed"
        case let .writeFailed(path, code): return "\(path): write error: \(String(cString: strerror(code)))"
        case let .cannotCreate(path, code): return "\(path): cannot open for appending: \(String(cString: strerror(code)))"
        }
    }
}

/// A block buffer in front of a file descriptor, flushed when full, on `flush()`, and after
/// every record when `flushEachRecord` is set (output to a terminal).
public final class OutputBuffer {
    private let fd: Int32
    private let name: String
    private let storage: UnsafeMutableRawPointer
    private let capacity: Int
    private var count = 0
    public let flushEachRecord: Bool

    public init(fd: Int32, name: String = "standard output", capacity: Int = 256 << 10, flushEachRecord: Bool? = nil) {
        self.fd = fd
        self.name = name
        self.capacity = capacity
        storage = .allocate(byteCount: capacity, alignment: 16)
        self.flushEachRecord = flushEachRecord ?? (isatty(fd) == 1)
    }

    deinit { storage.deallocate() }

    /// Whether bytes are waiting to be written.
    public var hasPending: Bool { count > 0 }

    @inline(__always)
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if bytes.count > capacity - count {
            try flush()
            if bytes.count > capacity {
                try writeAll(bytes)
                return
            }
        }
        if let base = bytes.baseAddress { (storage + count).copyMemory(from: base, byteCount: bytes.count) }
        count += bytes.count
    }

    public func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    public func write(byte: UInt8) throws {
        if count == capacity { try flush() }
        storage.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Ends a record: flushes when writing to a terminal.
    @inline(__always)
    public func endRecord() throws {
        if flushEachRecord { try flush() }
    }

    public func flush() throws {
        guard count > 0 else { return }
        let pending = count
        count = 0
        try writeAll(UnsafeRawBufferPointer(start: storage, count: pending))
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written >= 0 {
                offset += written
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN {
                var pollfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pollfd, 1, -1)
            } else if errno == EPIPE {
                throw OutputError.brokenPipe
            } else {
                throw OutputError.writeFailed(path: name, errno: errno)
            }
        }
    }
}
