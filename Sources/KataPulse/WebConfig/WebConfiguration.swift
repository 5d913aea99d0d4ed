/// The web configuration file of the Prometheus ecosystem (exporter-toolkit's `--web.config.file`, as
/// node_exporter, Prometheus and the Pushgateway read it): TLS, basic authentication and response headers.
///
/// Parsing follows exporter-toolkit 0.8 (what Debian bookworm's Prometheus and promtool use): unknown and
/// duplicate keys are errors, relative paths are relative to the file's directory, TLS is on when any of
/// `cert_file`, `key_file`, `client_auth_type` or `client_ca_file` is set. It is stricter where the toolkit
/// accepts a file that cannot work (a client CA file without certificates, verification without a CA,
/// `min_version` above `max_version`).
public struct WebConfiguration: Sendable, Equatable {
    /// TLS for every listener; nil serves plain HTTP.
    public var tls: TLSServer?
    /// User name → bcrypt hash; empty means no authentication.
    public var basicAuthUsers: [String: String] = [:]
    /// Headers added to every response (only the security headers the toolkit allows).
    public var headers: [String: String] = [:]
    /// `http_server_config.http2`: accepted for compatibility; the API speaks HTTP/1.1.
    public var http2 = true

    public init() {}

    /// `tls_server_config`: the server's certificate and what it asks of clients.
    public struct TLSServer: Sendable, Equatable {
        public var certFile: String
        public var keyFile: String
        public var clientAuth: ClientAuth = .noClientCert
        /// CA certificates (PEM) client certificates are verified against.
        public var clientCAFile: String?
        /// TLS 1.2 and older suites, as IANA code points, in the file's order; empty keeps the defaults.
        public var cipherSuites: [UInt16] = []
        /// Key exchange groups, as IANA code points; empty keeps the defaults.
        public var curves: [UInt16] = []
        public var minVersion: TLSVersion = .tls12
        public var maxVersion: TLSVersion = .tls13
        /// Accepted for compatibility: Go has ignored it since 1.18, and so does this server.
        public var preferServerCipherSuites = true

        public init(certFile: String, keyFile: String) {
            self.certFile = certFile
            self.keyFile = keyFile
        }
    }

    /// `client_auth_type`: Go's `tls.ClientAuthType` names.
    public enum ClientAuth: String, Sendable, CaseIterable {
        case noClientCert = "NoClientCert"
        case requestClientCert = "RequestClientCert"
        case requireAnyClientCert = "RequireAnyClientCert"
        case verifyClientCertIfGiven = "VerifyClientCertIfGiven"
        case requireAndVerifyClientCert = "RequireAndVerifyClientCert"

        /// Whether a presented certificate is checked against `client_ca_file`.
        public var verifies: Bool { self == .verifyClientCertIfGiven || self == .requireAndVerifyClientCert }
        /// Whether a client without a certificate is refused.
        public var requires: Bool { self == .requireAnyClientCert || self == .requireAndVerifyClientCert }
    }

    /// `min_version` / `max_version`.
    public enum TLSVersion: String, Sendable, CaseIterable, Comparable {
        case tls10 = "TLS10"
        case tls11 = "TLS11"
        case tls12 = "TLS12"
        case tls13 = "TLS13"

        public static func < (lhs: Self, rhs: Self) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// The suites Go's `tls.CipherSuites()` lists (the names the toolkit accepts), with their code points.
    static let cipherSuiteNames: [(name: String, value: UInt16)] = [
        ("TLS_RSA_WITH_AES_128_CBC_SHA", 0x002F), ("TLS_RSA_WITH_AES_256_CBC_SHA", 0x0035),
        ("TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009C), ("TLS_RSA_WITH_AES_256_GCM_SHA384", 0x009D),
        ("TLS_AES_128_GCM_SHA256", 0x1301), ("TLS_AES_256_GCM_SHA384", 0x1302),
        ("TLS_CHACHA20_POLY1305_SHA256", 0x1303),
        ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xC009), ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 0xC00A),
        ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xC013), ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0xC014),
        ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xC02B), ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xC02C),
        ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xC02F), ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xC030),
        ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xCCA8),
        ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0xCCA9),
    ]

    /// The TLS 1.3 suites: always enabled, not configurable (in Go and in BoringSSL alike).
    static let tls13CipherSuites: Set<UInt16> = [0x1301, 0x1302, 0x1303]

    /// `curve_preferences` names, with their code points.
    static let curveNames: [(name: String, value: UInt16)] = [
        ("CurveP256", 23), ("CurveP384", 24), ("CurveP521", 25), ("X25519", 29),
    ]

    /// The headers `http_server_config.headers` may set, with the values allowed (nil: any value).
    static let allowedHeaders: [String: [String]?] = [
        "Strict-Transport-Security": nil,
        "X-Content-Type-Options": ["nosniff"],
        "X-Frame-Options": ["deny", "sameorigin"],
        "X-XSS-Protection": nil,
        "Content-Security-Policy": nil,
    ]

    /// The files the configuration names (certificate, key, client CA): a change to any is a change of it.
    public var referencedFiles: [String] {
        guard let tls else { return [] }
        return [tls.certFile, tls.keyFile] + (tls.clientCAFile.map { [$0] } ?? [])
    }
}
