import Logging

/// Where and how logs are written: `--log-format`.
public enum LogFormat: String, Sendable, CaseIterable {
    /// journald when stderr is the journal (`$JOURNAL_STREAM`), logfmt otherwise.
    case auto
    /// Native journal entries with structured fields.
    case journald
    /// `key=value` lines on stderr.
    case logfmt
    /// One JSON object per line on stderr.
    case json

    /// The format `auto` stands for in this environment.
    public func resolved(environment: [String: String]) -> LogFormat {
        guard self == .auto else { return self }
        return JournaldLogHandler.stderrIsJournal(environment: environment) ? .journald : .logfmt
    }

    /// A rate-limited handler writing this format.
    public func makeHandler(level: Logger.Level, environment: [String: String], limiter: LogRateLimiter)
        -> any LogHandler
    {
        let handler: any LogHandler =
            switch resolved(environment: environment) {
            case .journald: JournaldLogHandler(level: level)
            case .json: JSONLogHandler(level: level)
            case .logfmt, .auto: LogfmtLogHandler(label: "kata-pulse", level: level)
            }
        return RateLimitedLogHandler(handler, limiter: limiter)
    }
}
