import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Misbehaving HTTP endpoints on 127.0.0.1, one port each, served by a Python asyncio process:
/// `hang` never answers, `drip` sends its answer a byte a second, `big` answers 200 with a 10 MB
/// body, `gzip` answers 200 with `Content-Encoding: gzip` and a body of 1 MB that inflates to
/// 1 GiB, `redirect302` and `redirect307` send to `target` (a listener that must see nothing),
/// and `reset` resets the connection (SO_LINGER 0, close) once the request is read.
/// Every accepted connection and every request read is logged by name.
final class HostileEndpoints: @unchecked Sendable {
    static let names = ["hang", "drip", "big", "gzip", "redirect302", "redirect307", "reset"]

    static let script = #"""
        import asyncio, json, os, socket, struct, sys, zlib

        log_path, ports_path = sys.argv[1], sys.argv[2]
        log = open(log_path, "a", buffering=1)

        def note(name, what):
            log.write(f"{name} {what}\n")

        def gzip_bomb():
            # A full-flush deflate block of 1 MiB of zeros, repeated: 1 GiB in about 1 MB.
            raw = zlib.compressobj(9, zlib.DEFLATED, -15)
            block = raw.compress(bytes(1 << 20)) + raw.flush(zlib.Z_FULL_FLUSH)
            crc, zeros = 0, bytes(1 << 20)
            for _ in range(1024):
                crc = zlib.crc32(zeros, crc)
            end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
            return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + block * 1024 + end
                    + crc.to_bytes(4, "little") + (1 << 30).to_bytes(4, "little"))

        BIG = b"x" * (10 << 20)
        BOMB = gzip_bomb()

        async def read_request(reader):
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length:
                await reader.readexactly(length)

        async def hang(reader, writer):
            await reader.read()
            return False

        async def drip(reader, writer):
            for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok":
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(1)
            return True

        async def big(reader, writer):
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n" % len(BIG))
            writer.write(BIG)
            await writer.drain()
            return True

        async def bomb(reader, writer):
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-encoding: gzip\r\ncontent-length: %d\r\n\r\n" % len(BOMB))
            writer.write(BOMB)
            await writer.drain()
            return True

        def redirect(status, reason):
            async def respond(reader, writer):
                writer.write(b"HTTP/1.1 %d %s\r\nlocation: http://127.0.0.1:%d/hook\r\ncontent-length: 0\r\n\r\n" % (status, reason, ports["target"]))
                await writer.drain()
                return True
            return respond

        async def reset(reader, writer):
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False

        async def target(reader, writer):
            writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
            return True

        def serve(name, respond):
            async def handle(reader, writer):
                note(name, "accept")
                try:
                    while True:
                        try:
                            await read_request(reader)
                        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                            break
                        note(name, "request")
                        if not await respond(reader, writer):
                            break
                except Exception:
                    pass
                finally:
                    try:
                        writer.close()
                    except Exception:
                        pass
            return handle

        ports = {}

        async def main():
            handlers = {"hang": hang, "drip": drip, "big": big, "gzip": bomb,
                        "redirect302": redirect(302, b"Found"), "redirect307": redirect(307, b"Temporary Redirect"),
                        "reset": reset, "target": target}
            servers = []
            for name, respond in handlers.items():
                server = await asyncio.start_server(serve(name, respond), "127.0.0.1", 0, backlog=512)
                ports[name] = server.sockets[0].getsockname()[1]
                servers.append(server)
            with open(ports_path + ".tmp", "w") as f:
                json.dump(ports, f)
            os.rename(ports_path + ".tmp", ports_path)
            await asyncio.gather(*(s.serve_forever() for s in servers))

        asyncio.run(main())
        """#

    let process: WatchedProcess
    let scratch: ScratchDirectory
    private(set) var ports: [String: Int] = [:]

    struct StartFailure: Error, CustomStringConvertible { var description: String }

    /// Starts the endpoints and waits until they listen.
    static func start() async throws -> HostileEndpoints {
        let endpoints = try HostileEndpoints()
        let portsFile = endpoints.scratch.path("ports.json")
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: portsFile) {
            guard endpoints.process.isRunning, Date() < deadline else {
                throw StartFailure(description: "the hostile endpoints did not start: \(endpoints.process.stderrSoFar)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: portsFile))) as? [String: Int]
        endpoints.ports = object ?? [:]
        return endpoints
    }

    private init() throws {
        scratch = try ScratchDirectory()
        process = try WatchedProcess.python(Self.script, [scratch.path("log"), scratch.path("ports.json")])
    }

    deinit { process.send(SIGKILL) }

    func url(_ name: String) -> String { "http://127.0.0.1:\(ports[name] ?? 0)/hook" }

    /// How many connections (`accept`) or requests (`request`) each endpoint saw.
    func counts(_ what: String) -> [String: Int] {
        let log = (try? String(contentsOfFile: scratch.path("log"), encoding: .utf8)) ?? ""
        return log.split(separator: "\n").reduce(into: [:]) { counts, line in
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[1] == what { counts[String(parts[0]), default: 0] += 1 }
        }
    }

    func stop() { process.send(SIGKILL) }
}
