import Glibc

/// The distinct names of one body, each held once and numbered in order of first appearance.
///
/// Metric and label names repeat on nearly every line; looking a name up by its bytes (a seeded hash, so a
/// tenant cannot choose colliding names) allocates nothing, and its `String` is made once.
struct NameTable {
    /// Name `i` is `bytes[starts[i]..<starts[i + 1]]`.
    private var bytes: [UInt8] = []
    private var starts: [Int] = [0]
    private var hashes: [Int] = []
    private(set) var strings: [String] = []
    /// Open addressing, linear probing; a slot holds a name's number + 1, 0 when empty.
    private var slots: [Int32] = Array(repeating: 0, count: 64)

    /// The name interned last: consecutive lines mostly repeat it (a family's series), so it is compared first.
    private var last = -1

    var count: Int { strings.count }

    /// The number of `name`, adding it when new.
    mutating func intern(_ name: UnsafeBufferPointer<UInt8>) -> Int {
        if last >= 0 && equals(last, name) { return last }
        let id = find(name)
        last = id
        return id
    }

    private mutating func find(_ name: UnsafeBufferPointer<UInt8>) -> Int {
        let (found, slot, hash) = probe(name)
        if let found { return found }
        let id = strings.count
        bytes.append(contentsOf: name)
        starts.append(bytes.count)
        hashes.append(hash)
        strings.append(String(decoding: name, as: UTF8.self))
        slots[slot] = Int32(id + 1)
        if strings.count * 2 > slots.count { grow() }
        return id
    }

    /// The number of `name`, if it was seen.
    func lookup(_ name: UnsafeBufferPointer<UInt8>) -> Int? {
        probe(name).id
    }

    /// Where `name` is, or the empty slot where it would go, and its hash.
    private func probe(_ name: UnsafeBufferPointer<UInt8>) -> (id: Int?, slot: Int, hash: Int) {
        let hash = Self.hash(name)
        var slot = hash & (slots.count - 1)
        while slots[slot] != 0 {
            let id = Int(slots[slot]) - 1
            if hashes[id] == hash && equals(id, name) { return (id, slot, hash) }
            slot = (slot + 1) & (slots.count - 1)
        }
        return (nil, slot, hash)
    }

    private func equals(_ id: Int, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[id]
        guard starts[id + 1] - start == name.count else { return false }
        return bytes.withUnsafeBufferPointer { stored in
            name.isEmpty || memcmp(stored.baseAddress! + start, name.baseAddress!, name.count) == 0
        }
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        for id in 0..<strings.count {
            var slot = hashes[id] & (slots.count - 1)
            while slots[slot] != 0 { slot = (slot + 1) & (slots.count - 1) }
            slots[slot] = Int32(id + 1)
        }
    }

    private static func hash(_ name: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(name))
        return hasher.finalize()
    }
}
