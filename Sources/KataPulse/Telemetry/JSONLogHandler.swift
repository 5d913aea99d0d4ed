import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A swift-log handler writing one JSON object per line to stderr: `{"time":…,"level":…,"msg":…,…}`.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]

    public init(level: Logger.Level) {
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = "{\"time\":\(JSONText.quoted(LogfmtLogHandler.timestamp())),\"level\":\"\(event.level)\""
        line += ",\"msg\":\(JSONText.quoted(event.message.description))"
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for key in merged.keys.sorted() where !["time", "level", "msg"].contains(key) {
            line += ",\(JSONText.quoted(key)):\(JSONText.quoted(merged[key]!.description))"
        }
        line += "}\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }
}
