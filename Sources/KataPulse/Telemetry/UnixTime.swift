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
}
