import NIOCore

extension Duration {
    /// The duration in seconds, as a floating-point number.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Whole milliseconds, truncated (as kata-monitor reports them).
    public var milliseconds: Int { Int(nanoseconds / 1_000_000) }

    /// Whole nanoseconds, truncated.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

extension TimeAmount {
    /// The same span as a NIO time amount, to the nanosecond.
    init(_ duration: Duration) {
        self = .nanoseconds(duration.nanoseconds)
    }
}
