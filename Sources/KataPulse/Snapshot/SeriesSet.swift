/// The series one rendering has written so far, to drop a later series with the same name and label set.
///
/// A series is held as the range of its rendered `name{labels}` in the rendering's buffer; two series are the
/// same when their names match and their `label="value"` pairs match as sets, whatever their order (values are
/// written in one canonical escaped form, so equal values are equal bytes). Lookups go by a seeded hash the
/// caller computes order-independently over the pairs, so a tenant cannot make its series collide.
struct SeriesSet {
    private var hashes: [Int] = []
    private var series: [Range<Int>] = []
    /// Open addressing, linear probing; a slot holds a series' number + 1, 0 when empty.
    private var slots: [Int32] = Array(repeating: 0, count: 1_024)

    /// Adds a series unless an equal one is present; returns whether it was added.
    mutating func insert(_ range: Range<Int>, hash: Int, in buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        var slot = hash & (slots.count - 1)
        while slots[slot] != 0 {
            let index = Int(slots[slot]) - 1
            if hashes[index] == hash && Self.sameSeries(series[index], range, in: buffer) { return false }
            slot = (slot + 1) & (slots.count - 1)
        }
        slots[slot] = Int32(series.count + 1)
        hashes.append(hash)
        series.append(range)
        if series.count * 2 > slots.count { grow() }
        return true
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        for index in series.indices {
            var slot = hashes[index] & (slots.count - 1)
            while slots[slot] != 0 { slot = (slot + 1) & (slots.count - 1) }
            slots[slot] = Int32(index + 1)
        }
    }

    /// Whether two rendered `name{labels}` have the same name and the same pairs.
    static func sameSeries(_ lhs: Range<Int>, _ rhs: Range<Int>, in buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        if equalBytes(buffer, lhs, rhs) { return true }
        let left = parts(of: lhs, in: buffer)
        let right = parts(of: rhs, in: buffer)
        guard equalBytes(buffer, left.name, right.name), left.pairs.count == right.pairs.count else { return false }
        return left.pairs.allSatisfy { pair in right.pairs.contains { equalBytes(buffer, pair, $0) } }
    }

    /// Splits a rendered `name{a="x",b="y"}` into its name and its `a="x"` pairs.
    static func parts(of range: Range<Int>, in buffer: UnsafeBufferPointer<UInt8>) -> (
        name: Range<Int>, pairs: [Range<Int>]
    ) {
        var index = range.lowerBound
        while index < range.upperBound && buffer[index] != UInt8(ascii: "{") { index += 1 }
        let name = range.lowerBound..<index
        var pairs: [Range<Int>] = []
        index += 1
        while index < range.upperBound {
            let start = index
            while index < range.upperBound && buffer[index] != UInt8(ascii: "\"") { index += 1 }
            index += 1  // the opening quote
            while index < range.upperBound && buffer[index] != UInt8(ascii: "\"") {
                index += buffer[index] == UInt8(ascii: "\\") ? 2 : 1
            }
            index += 1  // the closing quote
            pairs.append(start..<min(index, range.upperBound))
            index += 1  // ',' or '}'
        }
        return (name, pairs)
    }
}
