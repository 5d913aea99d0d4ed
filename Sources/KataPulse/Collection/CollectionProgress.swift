import Synchronization

/// What the last collection round found, for `STATUS=` lines and the watchdog.
public struct RoundSummary: Sendable, Equatable {
    public var sandboxes: Int
    public var up: Int
    public var failing: Int
    public var durationSeconds: Double

    /// One short human line, e.g. `12 sandboxes: 11 served, 1 failing; last round 0.21 s`.
    public var statusLine: String {
        let rounded = (durationSeconds * 100).rounded() / 100
        return "\(sandboxes) sandboxes: \(up) served, \(failing) failing; last round \(rounded) s"
    }
}

/// Whether collection is making progress: when the running round started, and the last round's summary.
///
/// The collector writes it; the watchdog reads it without waiting on the collector (an actor that might be
/// the very thing that is stuck).
public final class CollectionProgress: Sendable {
    private let roundStarted = Atomic<Int64>(0)
    private let summary = Mutex<RoundSummary?>(nil)
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    public init() {
        origin = clock.now
    }

    func roundDidStart() {
        roundStarted.store(max(1, nanoseconds(since: origin)), ordering: .relaxed)
    }

    func roundDidEnd(_ summary: RoundSummary) {
        roundStarted.store(0, ordering: .relaxed)
        self.summary.withLock { $0 = summary }
    }

    /// The last round's summary, once one has completed.
    public var lastRound: RoundSummary? { summary.withLock { $0 } }

    /// How long the running round has been going, or nil between rounds.
    public var currentRoundAge: Duration? {
        let started = roundStarted.load(ordering: .relaxed)
        guard started != 0 else { return nil }
        return .nanoseconds(nanoseconds(since: origin) - started)
    }

    private func nanoseconds(since origin: ContinuousClock.Instant) -> Int64 {
        (clock.now - origin).nanoseconds
    }
}
