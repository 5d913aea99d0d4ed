import CSystemd

/// Tells systemd about the service's state through `sd_notify`: readiness, status, stopping, watchdog.
///
/// Without `$NOTIFY_SOCKET` (not started by systemd with `Type=notify`) every call is a no-op, so the agent
/// behaves the same with and without systemd.
public struct SystemdNotifier: Sendable {
    /// Whether a notification socket was given.
    public let isEnabled: Bool

    public init(environment: [String: String]) {
        isEnabled = environment["NOTIFY_SOCKET"].map { !$0.isEmpty } ?? false
    }

    /// `READY=1` with a first status line.
    public func ready(status: String) {
        send("READY=1\nSTATUS=\(Self.clean(status))")
    }

    /// `STATUS=…`: one short human line.
    public func status(_ status: String) {
        send("STATUS=\(Self.clean(status))")
    }

    /// `STOPPING=1` at the start of shutdown.
    public func stopping() {
        send("STOPPING=1\nSTATUS=stopping")
    }

    /// `WATCHDOG=1`: the service is alive.
    public func watchdog() {
        send("WATCHDOG=1")
    }

    private func send(_ message: String) {
        guard isEnabled else { return }
        _ = sd_notify(0, message)
    }

    /// A status is one line.
    static func clean(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }

    /// The watchdog interval systemd asks for (`WatchdogSec=`), if it is enabled for this process.
    public static func watchdogInterval() -> Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(clamping: microseconds))
    }
}
