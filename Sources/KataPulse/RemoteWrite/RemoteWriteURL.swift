/// A remote-write receiver's endpoint: `http[s]://host[:port]/path[?query]`, e.g.
/// `http://prometheus:9090/api/v1/write` or `https://mimir.example.net/api/v1/push`.
public struct RemoteWriteURL: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Whether requests go over TLS (`https`).
    public var isSecure: Bool
    public var host: String
    public var port: Int
    /// The request target: path and query, `/` at the least.
    public var target: String

    /// Parses `http[s]://host[:port][/path][?query]` (port 80 or 443 when absent); nil for anything else.
    public init?(parsing url: String) {
        let isSecure = url.hasPrefix("https://")
        guard isSecure || url.hasPrefix("http://") else { return nil }
        var rest = Substring(url.dropFirst(isSecure ? "https://".count : "http://".count))
        var target = "/"
        if let start = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
            target = (rest[start] == "?" ? "/" : "") + String(rest[start...])
            rest = rest[..<start]
        }
        guard let (host, port) = HostPort.parse(rest, defaultPort: isSecure ? 443 : 80), !target.contains("#"),
            !target.contains(where: \.isWhitespace)
        else { return nil }
        self.isSecure = isSecure
        self.host = host
        self.port = port
        self.target = target
    }

    private var scheme: String { isSecure ? "https" : "http" }

    public var description: String { "\(scheme)://\(HostPort.spelled(host, port))\(target)" }

    /// A folder name for this receiver's queue: readable, and distinct for distinct URLs.
    var queueFolderName: String {
        let readable = description.dropFirst("\(scheme)://".count).map { $0.isLetter || $0.isNumber ? $0 : "_" }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a: stable across runs, unlike Hasher.
        for byte in description.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(readable.prefix(64)) + "-" + String(hash, radix: 16)
    }
}
