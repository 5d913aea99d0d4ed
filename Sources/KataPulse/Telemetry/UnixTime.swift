#if canImport(Glibc)
    import Glibc
#endif

/// Wall-clock time as Unix seconds, for timestamps published in metrics and JSON.
public enum UnixTime {
    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Now, in whole milliseconds since the epoch (remote write's timestamps).
    static func milliseconds() -> Int64 { milliseconds(now()) }

    /// A Unix time in whole milliseconds, rounded.
    static func milliseconds(_ seconds: Double) -> Int64 { Int64((seconds * 1000).rounded()) }

    /// Nanoseconds (since the epoch, or of CPU time) as seconds: whole seconds and the fraction converted apart,
    /// since a Double cannot hold today's epoch nanoseconds exactly (`…100.25` stays `…100.25`).
    public static func seconds<Count: BinaryInteger>(nanoseconds: Count) -> Double {
        Double(nanoseconds / 1_000_000_000) + Double(nanoseconds % 1_000_000_000) / 1e9
    }
}
