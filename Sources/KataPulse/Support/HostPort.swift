/// `host:port` as URLs and addresses spell it: an IPv6 host in brackets.
package enum HostPort {
    package static func spelled(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port` (a URL's authority); `defaultPort` when none is given. Nil for
    /// an empty host or a port outside 1...65535.
    static func parse(_ authority: Substring, defaultPort: Int) -> (host: String, port: Int)? {
        var host = String(authority)
        var port = defaultPort
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = Int(after.dropFirst()) else { return nil }
                port = parsed
            } else if !after.isEmpty {
                return nil
            }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let parsed = Int(host[host.index(after: colon)...]) else { return nil }
            port = parsed
            host = String(host[..<colon])
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        return (host, port)
    }
}
