/// A Pushgateway's base URL: `http://host[:port][/path]`.
public struct PushgatewayURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// The path prefix before `/metrics/…`, without a trailing slash.
    public var basePath: String

    /// Parses `http://host[:port][/path]` (port 9091 when absent); nil for anything else.
    public init?(parsing url: String) {
        guard url.hasPrefix("http://") else { return nil }
        var rest = Substring(url.dropFirst("http://".count))
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        path = path.droppingTrailingSlashes()
        if path == "/" { path = "" }
        guard let (host, port) = HostPort.parse(rest, defaultPort: 9091), !path.contains("?"), !path.contains("#")
        else { return nil }
        self.host = host
        self.port = port
        self.basePath = path
    }

    public var description: String { "http://\(HostPort.spelled(host, port))\(basePath)" }
}

/// Where snapshots are pushed: a Pushgateway plus the grouping key (`job`, `instance`).
public struct PushgatewayTarget: Sendable, Equatable {
    public var url: PushgatewayURL
    public var job: String
    public var instance: String

    public var host: String { url.host }
    public var port: Int { url.port }

    /// `…/metrics/job/<job>/instance/<instance>`, each value encoded as the Pushgateway expects.
    public var path: String {
        "\(url.basePath)/metrics/\(Self.segment("job", job))/\(Self.segment("instance", instance))"
    }

    public var description: String { "http://\(HostPort.spelled(host, port))\(path)" }

    /// `name/value`, or `name@base64/…` (URL-safe base64) when the value is empty or holds a `/`.
    static func segment(_ name: String, _ value: String) -> String {
        // The Pushgateway spells an empty value as a lone padding character.
        if value.isEmpty { return "\(name)@base64/=" }
        if value.contains("/") {
            return "\(name)@base64/\(base64URL(Array(value.utf8)))"
        }
        return "\(name)/\(percentEncoded(value))"
    }

    static func percentEncoded(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            let scalar = Unicode.Scalar(byte)
            if (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "-._~".unicodeScalars.contains(scalar)
            {
                out.unicodeScalars.append(scalar)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }

    static func base64URL(_ bytes: [UInt8]) -> String { Base64.encode(bytes, urlSafe: true) }
}

extension PushgatewayTarget {
    /// Parses the URL as ``PushgatewayURL`` does; nil for a bad URL or an empty job.
    public init?(url: String, job: String, instance: String) {
        guard let parsed = PushgatewayURL(parsing: url), !job.isEmpty else { return nil }
        self.init(url: parsed, job: job, instance: instance)
    }
}
