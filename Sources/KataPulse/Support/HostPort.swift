/// `host:port` as URLs and addresses spell it: an IPv6 host in brackets.
package enum HostPort {
    package static func spelled(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
