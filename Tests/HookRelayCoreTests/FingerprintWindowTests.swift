import Testing
@testable import HookRelayCore

@Suite struct FingerprintWindowTests {
    func key(_ n: UInt64) -> FingerprintKey { FingerprintKey(high: n &* 0x9E37_79B9_7F4A_7C15, low: n ^ 0xDEAD_BEEF) }

    /// Inserts each key in turn; true for each one that was a duplicate.
    func insert(_ keys: [UInt64], into window: inout FingerprintWindow) -> [Bool] {
        keys.map { window.insert(key($0)) }
    }

    @Test func remembersUpToItsCapacityAndForgetsTheLeastRecentlySeen() {
        var window = FingerprintWindow(capacity: 2)
        // 1 seen again becomes the most recent, so 3 evicts 2, the least recently seen.
        #expect(insert([1, 2, 1, 3], into: &window) == [false, false, true, false])
        #expect(window.count == 2)
        #expect(window.contains(key(1)) && window.contains(key(3)) && !window.contains(key(2)))
        // 2 was forgotten: new again, evicting 1; 3 is still there.
        #expect(insert([2, 3, 1], into: &window) == [false, true, false])
    }

    @Test func capacityOneKeepsOnlyTheLast() {
        var window = FingerprintWindow(capacity: 1)
        #expect(insert([1, 1, 2, 1, 1], into: &window) == [false, true, false, false, true])
        #expect(window.count == 1)
    }

    /// Against a plain LRU list, with keys that collide in the index (same low bits), many
    /// evictions and index growth: the backward-shift deletion must keep every key findable.
    @Test func agreesWithAReferenceLRU() {
        for capacity in [3, 50, 700, 3000] {
            var window = FingerprintWindow(capacity: capacity)
            var reference: [FingerprintKey] = [] // oldest first
            var state: UInt64 = 0x1234_5678
            var disagreements = 0
            for _ in 0..<20_000 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let n = (state >> 33) % UInt64(capacity * 2 + 5)
                // Half the keys share their low word, so they probe from the same slot.
                let k = n % 2 == 0 ? FingerprintKey(high: n, low: 42) : key(n)
                let expected: Bool
                if let at = reference.firstIndex(of: k) {
                    reference.remove(at: at)
                    expected = true
                } else {
                    if reference.count == capacity { reference.removeFirst() }
                    expected = false
                }
                reference.append(k)
                if window.insert(k) != expected { disagreements += 1 }
            }
            #expect(disagreements == 0, "capacity \(capacity)")
            #expect(window.count == reference.count)
            #expect(reference.allSatisfy { window.contains($0) })
        }
    }
}
