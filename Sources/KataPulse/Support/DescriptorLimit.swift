#if canImport(Glibc)
    import Glibc
#endif

/// The process's open-file limit (`RLIMIT_NOFILE`) and the share of it the HTTP API may use.
public enum DescriptorLimit {
    /// Raises the soft limit to the hard one, as Go programs do at start; returns the soft limit in force
    /// (unchanged when raising is not allowed, as under the systemd unit's syscall filter, which sets
    /// `LimitNOFILE=` instead).
    @discardableResult
    public static func raiseSoftLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// Descriptors kept for everything but API connections: two per concurrent shim fetch and per request in
    /// flight (`/agent-url` asks a shim: its socket and, for a long path, its directory), and a margin for
    /// CRI, inotify, event loops, listeners, logs and files.
    public static func reserved(shimConcurrency: Int, requestsInFlight: Int) -> Int {
        2 * (max(1, shimConcurrency) + max(1, requestsInFlight)) + 64
    }

    /// The most API connections that leave `reserved` of `limit` descriptors free, and at most `requested`.
    public static func connectionBudget(limit: Int, reserved: Int, requested: Int) -> Int {
        max(1, min(requested, limit - reserved))
    }
}
