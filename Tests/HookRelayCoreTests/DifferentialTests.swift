import Foundation
import Testing
@testable import HookRelayCore

/// Mutated events judged by the scanner and by Python's json module made strict (UTF-8 decoding
/// first, no NaN/Infinity, no lone surrogates): the two must agree on every input.
@Suite struct DifferentialTests {
    static let seeds: [[UInt8]] = [
        #"{"event_type":"finding","id":"evt_1","finding":{"severity":"high","title":"SQL \"Injection\"","cvss":7.5,"tags":["a","b"],"ok":true,"n":null}}"#,
        #"{"a":[1,-2.5e-3,0,1E9,{"b":"\u00e9\ud83d\ude00"}],"c":{}}"#,
        "{\"s\":\"é😀\\n\\t\",\"k\":[[],{},\"\"]}",
    ].map { Array($0.utf8) }

    static let alphabet: [UInt8] = Array(#"{}[]",:\ 0123456789.eE+-tfnul"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF]

    static func mutate(_ seed: [UInt8], _ random: inout SeededGenerator) -> [UInt8] {
        var bytes = seed
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            guard !bytes.isEmpty else { break }
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0: bytes.remove(at: at)
            case 1: bytes.insert(alphabet.randomElement(using: &random)!, at: at)
            case 2: bytes[at] = alphabet.randomElement(using: &random)!
            case 3: bytes.removeSubrange(at...)
            default:
                let end = min(bytes.count, at + Int.random(in: 1...8, using: &random))
                bytes.insert(contentsOf: bytes[at..<end], at: at)
            }
        }
        return bytes
    }

    static let pythonJudge = """
        import sys, json, base64
        def bad_constant(name):
            raise ValueError(name)
        def unicode_only(value):
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                    return True
                except UnicodeEncodeError:
                    return False
            if isinstance(value, list):
                return all(unicode_only(item) for item in value)
            if isinstance(value, dict):
                return all(unicode_only(k) and unicode_only(v) for k, v in value.items())
            return True
        def keys_unicode_only(pairs):
            for key, _ in pairs:
                if not unicode_only(key):
                    raise ValueError("lone surrogate in a key")
            return dict(pairs)
        for line in sys.stdin:
            data = base64.b64decode(line.strip())
            try:
                value = json.loads(data.decode("utf-8"), parse_constant=bad_constant, object_pairs_hook=keys_unicode_only)
                print("1" if unicode_only(value) else "0")
            except (ValueError, RecursionError):
                print("0")
        """

    @Test func scannerAgreesWithAStrictReference() throws {
        var random = SeededGenerator(seed: 20261129)
        var cases: [[UInt8]] = []
        for _ in 0..<3000 {
            cases.append(Self.mutate(Self.seeds.randomElement(using: &random)!, &random))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.pythonJudge]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let encoded = cases.map { Data($0).base64EncodedString() }.joined(separator: "\n") + "\n"
        // Write from another thread: the judge's output could fill the pipe meanwhile.
        let writer = Thread {
            input.fileHandleForWriting.write(Data(encoded.utf8))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let verdicts = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        try #require(verdicts.count == cases.count)

        var accepted = 0
        var disagreements: [String] = []
        for (bytes, verdict) in zip(cases, verdicts) {
            let ours = bytes.withUnsafeBytes { buffer -> Bool in
                if case .success = JSONScanner(maxDepth: 512).validateDocument(buffer) { return true }
                return false
            }
            if ours { accepted += 1 }
            if ours != (verdict == "1") {
                disagreements.append("\(ours ? "accepted" : "rejected") by hookrelay: \(Data(bytes).base64EncodedString())")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        // The mutations must exercise both outcomes, or the comparison proves little.
        #expect(accepted > 100 && accepted < cases.count - 100, "\(accepted) of \(cases.count) accepted")
    }
}
