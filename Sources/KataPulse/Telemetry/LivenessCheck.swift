import NIOCore

/// Whether the agent is alive: no collection round running longer than a limit, and every event loop
/// answering. systemd's watchdog pings and `/healthz` (Kubernetes' liveness probe) both ask it, so a wedged
/// agent is restarted by whichever supervisor it has.
public struct LivenessCheck: Sendable {
    /// What counts as wedged.
    public struct Configuration: Sendable {
        /// The longest a round may run before the agent counts as wedged.
        public var maxRoundDuration: Duration = .seconds(60)
        /// How long an event loop may take to run an empty task.
        public var loopDeadline: Duration = .seconds(1)

        public init() {}
    }

    let configuration: Configuration
    let progress: CollectionProgress
    let group: any EventLoopGroup

    init(configuration: Configuration, progress: CollectionProgress, group: any EventLoopGroup) {
        self.configuration = configuration
        self.progress = progress
        self.group = group
    }

    /// Why the agent is not alive, or nil when it is.
    public func problem() async -> String? {
        if let age = progress.currentRoundAge, age > configuration.maxRoundDuration {
            return "collection round running for \(age), longer than \(configuration.maxRoundDuration)"
        }
        for loop in group.makeIterator() {
            guard await answers(loop) else {
                return "event loop \(loop) does not answer within \(configuration.loopDeadline)"
            }
        }
        return nil
    }

    private func answers(_ loop: any EventLoop) async -> Bool {
        let deadline = configuration.loopDeadline
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
