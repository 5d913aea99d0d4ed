import NIOCore

/// Whether the agent is alive: no collection round running longer than a limit, and every event loop
/// answering. systemd's watchdog pings and `/healthz` (Kubernetes' liveness probe) both ask it, so a wedged
/// agent is restarted by whichever supervisor it has.
public struct LivenessCheck: Sendable {
    let progress: CollectionProgress
    let group: any EventLoopGroup
    /// The longest a round may run before the agent counts as wedged.
    let maxRoundDuration: Duration
    /// How long an event loop may take to run an empty task.
    let loopDeadline: Duration

    public init(
        progress: CollectionProgress, group: any EventLoopGroup, maxRoundDuration: Duration, loopDeadline: Duration
    ) {
        self.progress = progress
        self.group = group
        self.maxRoundDuration = maxRoundDuration
        self.loopDeadline = loopDeadline
    }

    /// Why the agent is not alive, or nil when it is.
    public func problem() async -> String? {
        if let age = progress.currentRoundAge, age > maxRoundDuration {
            return "collection round running for \(age), longer than \(maxRoundDuration)"
        }
        for loop in group.makeIterator() {
            guard await answers(loop) else { return "event loop \(loop) does not answer within \(loopDeadline)" }
        }
        return nil
    }

    private func answers(_ loop: any EventLoop) async -> Bool {
        let deadline = loopDeadline
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await loop.submit {}.get()) != nil }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
