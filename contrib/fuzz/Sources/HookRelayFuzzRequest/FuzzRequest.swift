import HookRelayCore
import HookRelayDelivery
import NIOCore

/// One libFuzzer input as a webhook URL (the first line) and request headers (`Name: value`,
/// the other lines): every URL the parser accepts must build a request and a socket address
/// without trapping, and no accepted part may add a line to the request head.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: data, count: size), as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let url = lines.isEmpty ? "" : lines.removeFirst()
    let raw = lines.compactMap { HeaderField.parse(line: $0) }
    guard let endpoint = try? Endpoint(url, allowHTTP: true) else { return 0 }
    precondition((1...65535).contains(endpoint.port), "accepted a port outside 1-65535: \(url)")
    // What the sender does with the vetted address; trapped on ports above 65535 before.
    _ = try? SocketAddress(ipAddress: "127.0.0.1", port: endpoint.port)
    _ = try? SocketAddress(ipAddress: "::1", port: endpoint.port)
    // Headers as the user-facing check accepts them, and as given (the writer checks again).
    let checked = (try? HeaderField.validate(raw)) != nil ? raw : []
    for (headers, mustBuild) in [(checked, true), (raw, false)] {
        guard let wire = try? HTTPSender.request(Array("{}".utf8), to: endpoint, headers: headers.map { ($0.name, $0.value) }) else {
            precondition(!mustBuild, "headers the check accepted were refused by the writer: \(headers)")
            continue
        }
        checkHead(wire, headerCount: headers.count, url: url)
    }
    return 0
}

/// The head holds the request line, host, content-type, content-length and one line per header:
/// each ended by CRLF, with no CR or LF (or NUL) anywhere else.
private func checkHead(_ wire: ByteBuffer, headerCount: Int, url: String) {
    let bytes = Array(wire.readableBytesView)
    var lines = 0
    var index = 0
    while index + 1 < bytes.count {
        if bytes[index] == 0x0D, bytes[index + 1] == 0x0A {
            lines += 1
            if index + 3 < bytes.count, bytes[index + 2] == 0x0D, bytes[index + 3] == 0x0A { break }
            index += 2
            continue
        }
        precondition(bytes[index] != 0x0D && bytes[index] != 0x0A && bytes[index] != 0, "a bare CR, LF or NUL in the head: \(url)")
        index += 1
    }
    precondition(lines == 4 + headerCount, "the head has \(lines) lines, not \(4 + headerCount): \(url)")
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

@_cdecl("HookRelayFuzzRequest_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments, { fuzz($0, $1) })
}
