/// A cumulative histogram with fixed upper bounds, rendered as a Prometheus histogram.
public struct FixedHistogram: Sendable, Equatable {
    public let upperBounds: [Double]
    public private(set) var bucketCounts: [Int]
    public private(set) var sum: Double = 0
    public private(set) var count: Int = 0

    public init(upperBounds: [Double]) {
        self.upperBounds = upperBounds
        self.bucketCounts = Array(repeating: 0, count: upperBounds.count)
    }

    public mutating func observe(_ value: Double) {
        for (index, bound) in upperBounds.enumerated() where value <= bound {
            bucketCounts[index] += 1
        }
        sum += value
        count += 1
    }
}
