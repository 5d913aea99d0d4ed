import Synchronization

/// Holds the current ``Snapshot``; readers take it without waiting on collection.
public final class SnapshotStore: Sendable {
    private let current: Mutex<Snapshot>

    public init(_ initial: Snapshot) {
        current = Mutex(initial)
    }

    /// The latest snapshot.
    public var snapshot: Snapshot { current.withLock { $0 } }

    /// Swaps in a new snapshot.
    public func replace(_ snapshot: Snapshot) {
        current.withLock { $0 = snapshot }
    }
}
