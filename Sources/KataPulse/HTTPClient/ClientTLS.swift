import Synchronization

/// TLS for the agent's outgoing connections (remote write): the files its ``Configuration`` names, read at
/// start and read again before each connection, so that a renewed certificate (cert-manager, certbot) is
/// used without a restart.
public final class ClientTLS: Sendable {
    /// Whom to trust, which certificate to show, and which name to expect; every file PEM.
    public struct Configuration: Sendable, Equatable {
        /// The CAs that sign the servers' certificates, instead of the system's (`/etc/ssl/certs`).
        public var caFile: String?
        /// The agent's certificate (chain) and its key, for servers that ask for one.
        public var certFile: String?
        public var keyFile: String?
        /// The name the server's certificate must carry, and the one sent in SNI, instead of the URL's host.
        public var serverName: String?
        /// Accepts any server certificate: encryption without authentication, for tests.
        public var insecureSkipVerify = false

        public init() {}

        /// Whether anything differs from the defaults.
        public var isSet: Bool { self != Configuration() }

        /// Why these settings do not go together, or nil when they do.
        public var problem: String? {
            (certFile == nil) != (keyFile == nil) ? "a client certificate needs both its file and its key's" : nil
        }
    }

    /// A setting that names a file.
    public enum Setting: Sendable, Equatable {
        case caFile, certFile, keyFile
    }

    public let configuration: Configuration
    private let provider: any TLSClientProvider
    private let state: Mutex<(material: ClientTLSMaterial, security: any ClientConnectionSecurity)>

    /// Reads the files and builds TLS from them; throws when a file cannot be read or used.
    public init(configuration: Configuration, provider: any TLSClientProvider) throws(ClientTLSError) {
        self.configuration = configuration
        self.provider = provider
        let material = try Self.read(configuration)
        let security = try provider.makeSecurity(configuration, material: material)
        self.state = Mutex((material, security))
    }

    /// The TLS for the next connection: rebuilt first when a file's contents changed. When the changed files
    /// cannot be used (a renewal half written, a wrong key), the previous TLS is kept and the problem returned.
    /// Reads files: call it off the event loops.
    func current() -> (security: any ClientConnectionSecurity, problem: ClientTLSError?) {
        let known = state.withLock { $0 }
        let material: ClientTLSMaterial
        do {
            material = try Self.read(configuration)
        } catch {
            return (known.security, error)
        }
        guard material != known.material else { return (known.security, nil) }
        do {
            let security = try provider.makeSecurity(configuration, material: material)
            state.withLock { $0 = (material, security) }
            return (security, nil)
        } catch {
            return (known.security, error)
        }
    }

    private static func read(_ configuration: Configuration) throws(ClientTLSError) -> ClientTLSMaterial {
        func contents(_ path: String?, _ setting: Setting) throws(ClientTLSError) -> [UInt8]? {
            guard let path else { return nil }
            do {
                return try FileContents.read(path, limit: 1024 * 1024)
            } catch {
                throw ClientTLSError(setting: setting, path: path, message: error.reason)
            }
        }
        return ClientTLSMaterial(
            authorities: try contents(configuration.caFile, .caFile),
            certificateChain: try contents(configuration.certFile, .certFile),
            privateKey: try contents(configuration.keyFile, .keyFile))
    }
}
