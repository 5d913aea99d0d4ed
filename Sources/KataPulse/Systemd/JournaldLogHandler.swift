import CSystemd
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A swift-log handler sending native journal entries through `sd_journal_sendv`.
///
/// Each entry carries `MESSAGE`, `PRIORITY` (syslog levels), `SYSLOG_IDENTIFIER`, `CODE_FILE`, `CODE_LINE`,
/// `CODE_FUNC` and every metadata key as an upper-case field (`sandbox_id` → `SANDBOX_ID`), so
/// `journalctl -u kata-pulse SANDBOX_ID=…` finds a sandbox's entries. libsystemd writes values holding
/// newlines or other bytes in the journal's length-prefixed form.
public struct JournaldLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let identifier: String

    public init(identifier: String = "kata-pulse", level: Logger.Level) {
        self.identifier = identifier
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [[UInt8]] = [
            field("MESSAGE", event.message.description),
            field("PRIORITY", String(Self.priority(event.level))),
            field("SYSLOG_IDENTIFIER", identifier),
            field("CODE_FILE", event.file),
            field("CODE_LINE", String(event.line)),
            field("CODE_FUNC", event.function),
        ]
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            guard let name = Self.fieldName(key) else { continue }
            fields.append(field(name, value.description))
        }
        Self.send(fields)
    }

    private func field(_ name: String, _ value: String) -> [UInt8] {
        Array(name.utf8) + [UInt8(ascii: "=")] + Array(value.utf8)
    }

    /// syslog priorities: debug 7, info 6, notice 5, warning 4, error 3, critical 2.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// A journal field name for a metadata key: upper case, `[A-Z0-9_]`, not starting with `_` or a digit
    /// (those are the journal's trusted fields), at most 64 bytes; nil when nothing is left.
    static func fieldName(_ key: String) -> String? {
        var name = String(
            key.uppercased().unicodeScalars.map { scalar -> Character in
                (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9") ? Character(scalar) : "_"
            })
        while name.hasPrefix("_") { name.removeFirst() }
        if let first = name.first, first.isNumber { name = "F" + name }
        guard !name.isEmpty else { return nil }
        let reserved = ["MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC"]
        if reserved.contains(name) { name = "META_" + name }
        return String(name.prefix(64))
    }

    private static func send(_ fields: [[UInt8]]) {
        // One buffer for all fields; the iovecs point into it for the duration of the call.
        var buffer: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in fields {
            ranges.append(buffer.count..<(buffer.count + field.count))
            buffer.append(contentsOf: field)
        }
        buffer.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            let vectors = ranges.map { iovec(iov_base: base + $0.lowerBound, iov_len: $0.count) }
            _ = vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, CInt($0.count)) }
        }
    }

    /// Whether stderr is connected to the journal (`$JOURNAL_STREAM` names stderr's device and inode), as
    /// systemd sets it for services whose output goes to the journal.
    public static func stderrIsJournal(environment: [String: String]) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }
}
