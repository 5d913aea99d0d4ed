import Dispatch
import Synchronization

/// The web configuration in force on the HTTP API (TLS, basic authentication, headers), re-read when the file
/// or a file it names changes: an invalid change is refused and the last good configuration kept, as
/// exporter-toolkit does. Whether TLS is on is fixed at start (a listener cannot switch protocols).
public final class WebAccess: OwnMetricsSource {
    /// Where the web configuration comes from and how often it is checked for a change.
    public struct Configuration: Sendable {
        /// `--web.config.file`; nil serves plain HTTP without authentication.
        public var file: String?
        /// How often the file, and the certificate, key and CA files it names, are checked for a change.
        public var checkInterval: Duration = .seconds(1)

        public init() {}
    }

    /// What the server applies to a connection (security) and to a request (credentials, headers).
    struct Policy: Sendable {
        var security: (any ConnectionSecurity)?
        var authenticator: BasicAuthenticator?
        var headers: [(name: String, value: String)] = []
    }

    /// What a check for changes found.
    enum ReloadOutcome: Equatable {
        case unchanged
        case reloaded
        case refused(WebConfigurationError)
    }

    /// Why a request was not authenticated.
    enum AuthFailure: String, CaseIterable {
        /// Missing or wrong credentials (401).
        case denied
        /// Too many credential checks waiting (429).
        case busy
    }

    private struct Loaded {
        var policy: Policy
        var tlsEnabled: Bool
        /// The certificate, key and CA files the configuration names.
        var referencedFiles: [String]
        /// The bytes of the file and of every file it names, as loaded: a difference is a change.
        var fingerprint: [[UInt8]]
    }

    private struct State {
        var loaded: Loaded
        var lastReloadSuccessful = true
        var lastSuccess: Double
        var failures: [AuthFailure: Int] = [:]
    }

    public let configuration: Configuration
    private let provider: (any TLSServerProvider)?
    /// Every bcrypt check runs here, one at a time.
    private let queue = DispatchQueue(label: "kata-pulse.basic-auth")
    private let state: Mutex<State>

    static let reloadSuccessful = OwnMetric.gauge(
        "kata_pulse_web_config_last_reload_successful",
        "Whether the last check of the web configuration file found it usable (1) or kept the previous one (0).")
    static let reloadTime = OwnMetric.gauge(
        "kata_pulse_web_config_last_reload_success_timestamp_seconds",
        "When the web configuration in force was loaded, in seconds since the epoch.")
    static let authFailures = OwnMetric.counter(
        "kata_pulse_http_auth_failures_total",
        "Requests refused by basic authentication: denied (401) or busy (429, too many checks waiting).")

    /// Loads `configuration.file`; throws, naming the field, when it cannot be used (the agent does not start).
    public init(configuration: Configuration, tlsProvider: (any TLSServerProvider)?) throws(WebConfigurationError) {
        self.configuration = configuration
        self.provider = tlsProvider
        let loaded: Loaded
        do {
            loaded = try Self.load(configuration.file, provider: tlsProvider, queue: queue)
        } catch {
            var error = error
            error.file = configuration.file
            throw error
        }
        self.state = Mutex(State(loaded: loaded, lastSuccess: UnixTime.now()))
    }

    /// Plain HTTP without authentication: no file.
    static func unrestricted() -> WebAccess {
        // Without a file nothing is read, so nothing can fail.
        try! WebAccess(configuration: Configuration(), tlsProvider: nil)
    }

    /// Whether the API is served over TLS (fixed at start).
    public var servesTLS: Bool { state.withLock { $0.loaded.tlsEnabled } }

    /// The policy for a new connection or request.
    var policy: Policy { state.withLock { $0.loaded.policy } }

    /// Re-reads the configuration if it or a file it names changed since it was loaded.
    func reloadIfChanged() -> ReloadOutcome {
        guard let file = configuration.file else { return .unchanged }
        let current = state.withLock { $0.loaded }
        guard Self.fingerprint(file, naming: current.referencedFiles) != current.fingerprint else { return .unchanged }
        do throws(WebConfigurationError) {
            let loaded = try Self.load(file, provider: provider, queue: queue)
            guard loaded.tlsEnabled == current.tlsEnabled else {
                throw WebConfigurationError(
                    field: "tls_server_config", line: nil,
                    message: "TLS cannot be turned \(loaded.tlsEnabled ? "on" : "off") while running; restart the agent"
                )
            }
            state.withLock { state in
                state.loaded = loaded
                state.lastReloadSuccessful = true
                state.lastSuccess = UnixTime.now()
            }
            return .reloaded
        } catch {
            state.withLock { $0.lastReloadSuccessful = false }
            return .refused(error)
        }
    }

    func count(_ failure: AuthFailure) {
        state.withLock { $0.failures[failure, default: 0] += 1 }
    }

    public var families: [MetricFamily] {
        let state = state.withLock { ($0.lastReloadSuccessful, $0.lastSuccess, $0.failures) }
        return [
            Self.reloadSuccessful.family(state.0 ? 1 : 0),
            Self.reloadTime.family(state.1),
            Self.authFailures.family(
                AuthFailure.allCases.map {
                    Self.authFailures.sample(Double(state.2[$0, default: 0]), labels: [Label("reason", $0.rawValue)])
                }),
        ]
    }

    /// Reads and validates the file and what it names, and builds the policy.
    private static func load(
        _ file: String?, provider: (any TLSServerProvider)?, queue: DispatchQueue
    ) throws(WebConfigurationError) -> Loaded {
        guard let file else { return Loaded(policy: Policy(), tlsEnabled: false, referencedFiles: [], fingerprint: []) }
        let bytes = try read(file, field: nil)
        let directory = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) : "."
        let web = try WebConfiguration.parse(bytes, directory: directory)
        var policy = Policy(headers: web.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        var fingerprint = [bytes]
        if let tls = web.tls {
            let material = TLSMaterial(
                certificateChain: try read(tls.certFile, field: "tls_server_config.cert_file"),
                privateKey: try read(tls.keyFile, field: "tls_server_config.key_file"),
                clientCAs: try tls.clientCAFile.map { path throws(WebConfigurationError) in
                    try read(path, field: "tls_server_config.client_ca_file")
                })
            fingerprint += [material.certificateChain, material.privateKey] + (material.clientCAs.map { [$0] } ?? [])
            guard let provider else {
                throw WebConfigurationError(
                    field: "tls_server_config", line: nil, message: "TLS is not available in this build")
            }
            policy.security = try provider.makeSecurity(tls, material: material)
        }
        if !web.basicAuthUsers.isEmpty {
            policy.authenticator = BasicAuthenticator(users: web.basicAuthUsers, queue: queue)
        }
        return Loaded(
            policy: policy, tlsEnabled: web.tls != nil, referencedFiles: web.referencedFiles, fingerprint: fingerprint)
    }

    /// The bytes of `file` and of the files the configuration in force names, as they are now.
    private static func fingerprint(_ file: String, naming paths: [String]) -> [[UInt8]]? {
        try? ([file] + paths).map { path throws(WebConfigurationError) in try read(path, field: nil) }
    }

    private static func read(_ path: String, field: String?) throws(WebConfigurationError) -> [UInt8] {
        do {
            return try FileContents.read(path, limit: WebConfiguration.maxFileSize)
        } catch {
            throw WebConfigurationError(field: field, line: nil, message: error.description)
        }
    }
}

/// The contents of the files a `tls_server_config` names, read once per load so that what is checked for
/// changes is exactly what is in force.
public struct TLSMaterial: Sendable {
    /// `cert_file`: the server's certificate chain, PEM.
    public var certificateChain: [UInt8]
    /// `key_file`: its private key, PEM.
    public var privateKey: [UInt8]
    /// `client_ca_file`: the CAs client certificates are verified against, PEM.
    public var clientCAs: [UInt8]?
}
