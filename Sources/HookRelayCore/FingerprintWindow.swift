/// The fingerprint keys `filter --unique` remembers: at most `capacity` of them, the least
/// recently seen forgotten first (LRU), so memory is bounded whatever the input.
///
/// About 32 bytes a key when full: per key 16 bytes of key and two 4-byte links, and an
/// open-addressing index of 4-byte slots kept at most half full (measured: a full window of
/// 1,000,000 added 33 MiB to `filter`'s peak RSS). Memory grows with the keys actually seen, up
/// to the capacity.
public struct FingerprintWindow: Sendable {
    public let capacity: Int
    /// The largest capacity accepted (the links are 32-bit).
    public static let maxCapacity = 100_000_000

    private var highs: [UInt64] = []
    private var lows: [UInt64] = []
    /// Towards older (`older`) and newer (`newer`) keys; `noNode` ends the list.
    private var older: [UInt32] = []
    private var newer: [UInt32] = []
    /// Node index + 1, or 0 for an empty slot.
    private var index: [UInt32]
    private var mask: Int
    private var oldest = FingerprintWindow.noNode
    private var newest = FingerprintWindow.noNode
    private static let noNode = UInt32.max

    /// - Precondition: `1 <= capacity <= maxCapacity`.
    public init(capacity: Int) {
        precondition(capacity >= 1 && capacity <= Self.maxCapacity, "window capacity out of range")
        self.capacity = capacity
        let slots = Self.slots(for: min(capacity, 512))
        index = Array(repeating: 0, count: slots)
        mask = slots - 1
    }

    /// The number of keys remembered.
    public var count: Int { highs.count }

    /// Remembers `key` as the most recently seen; returns true when it was already remembered
    /// (a duplicate). When a new key finds the window full, the least recently seen one goes.
    public mutating func insert(_ key: FingerprintKey) -> Bool {
        if let node = find(key) {
            touch(node)
            return true
        }
        let node: UInt32
        if highs.count < capacity {
            node = UInt32(highs.count)
            highs.append(key.high)
            lows.append(key.low)
            older.append(Self.noNode)
            newer.append(Self.noNode)
            if highs.count * 2 > index.count { grow() } else { place(node) }
        } else {
            node = oldest
            unlink(node)
            remove(FingerprintKey(high: highs[Int(node)], low: lows[Int(node)]))
            highs[Int(node)] = key.high
            lows[Int(node)] = key.low
            place(node)
        }
        link(node)
        return false
    }

    /// Whether `key` is remembered, without changing its place.
    public func contains(_ key: FingerprintKey) -> Bool { find(key) != nil }

    private static func slots(for keys: Int) -> Int {
        var slots = 1024
        while slots < keys * 2 { slots <<= 1 }
        return slots
    }

    @inline(__always)
    private func home(_ high: UInt64, _ low: UInt64) -> Int { Int(truncatingIfNeeded: low ^ (high >> 17)) & mask }

    private func find(_ key: FingerprintKey) -> UInt32? {
        var slot = home(key.high, key.low)
        while true {
            let entry = index[slot]
            if entry == 0 { return nil }
            let node = Int(entry - 1)
            if lows[node] == key.low, highs[node] == key.high { return UInt32(node) }
            slot = (slot + 1) & mask
        }
    }

    private mutating func place(_ node: UInt32) {
        var slot = home(highs[Int(node)], lows[Int(node)])
        while index[slot] != 0 { slot = (slot + 1) & mask }
        index[slot] = node + 1
    }

    /// Removes `key`'s slot, shifting later entries of its probe run back (linear probing has
    /// no tombstones, so lookups stay short however many keys were evicted).
    private mutating func remove(_ key: FingerprintKey) {
        var hole = home(key.high, key.low)
        while true {
            let node = Int(index[hole] - 1)
            if lows[node] == key.low, highs[node] == key.high { break }
            hole = (hole + 1) & mask
        }
        var next = hole
        while true {
            next = (next + 1) & mask
            let entry = index[next]
            if entry == 0 { break }
            let wanted = home(highs[Int(entry - 1)], lows[Int(entry - 1)])
            // The entry may fill the hole unless its home lies cyclically in (hole, next].
            let staysPut = hole <= next ? (hole < wanted && wanted <= next) : (hole < wanted || wanted <= next)
            if staysPut { continue }
            index[hole] = entry
            hole = next
        }
        index[hole] = 0
    }

    private mutating func grow() {
        let slots = index.count * 2
        index = Array(repeating: 0, count: slots)
        mask = slots - 1
        for node in 0..<highs.count { place(UInt32(node)) }
    }

    /// Makes `node` the newest.
    private mutating func touch(_ node: UInt32) {
        guard node != newest else { return }
        unlink(node)
        link(node)
    }

    private mutating func unlink(_ node: UInt32) {
        let before = older[Int(node)]
        let after = newer[Int(node)]
        if before == Self.noNode { oldest = after } else { newer[Int(before)] = after }
        if after == Self.noNode { newest = before } else { older[Int(after)] = before }
        older[Int(node)] = Self.noNode
        newer[Int(node)] = Self.noNode
    }

    private mutating func link(_ node: UInt32) {
        older[Int(node)] = newest
        newer[Int(node)] = Self.noNode
        if newest == Self.noNode { oldest = node } else { newer[Int(newest)] = node }
        newest = node
    }
}
