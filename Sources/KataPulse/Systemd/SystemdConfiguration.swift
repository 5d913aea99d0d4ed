/// What systemd asked of this process: notifications (`$NOTIFY_SOCKET`) and watchdog pings (`WatchdogSec=`).
public struct SystemdConfiguration: Sendable {
    /// Sends `READY=1`, `STATUS=`, `STOPPING=1` and `WATCHDOG=1`; a no-op without a notification socket.
    public var notifier = SystemdNotifier(environment: [:])
    /// The watchdog interval systemd set, if any.
    public var watchdogInterval: Duration?

    public init() {}

    /// As systemd started this process (all off when it did not).
    public init(environment: [String: String]) {
        notifier = SystemdNotifier(environment: environment)
        watchdogInterval = SystemdNotifier.watchdogInterval()
    }
}
