import KataPulse
import NIOCore
import NIOSSL

#if canImport(Glibc)
    import Glibc
#endif

/// TLS for outgoing connections through swift-nio-ssl (BoringSSL), from a ``ClientTLS/Configuration``.
///
/// As Prometheus' own client: TLS 1.2 at the least, the server's certificate verified against the given CAs
/// (or the system's) and matched against the server name, or against the address when the URL has one.
public struct NIOSSLClientProvider: TLSClientProvider {
    public init() {}

    public func makeSecurity(
        _ configuration: ClientTLS.Configuration, material: ClientTLSMaterial
    ) throws(ClientTLSError) -> any ClientConnectionSecurity {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let authorities = material.authorities {
            tls.trustRoots = .certificates(
                try certificates(authorities, setting: .caFile, path: configuration.caFile ?? ""))
        }
        if let chain = material.certificateChain, let keyBytes = material.privateKey {
            let certFile = configuration.certFile ?? ""
            let keyFile = configuration.keyFile ?? ""
            tls.certificateChain = try certificates(chain, setting: .certFile, path: certFile).map { .certificate($0) }
            do {
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyBytes, format: .pem))
            } catch {
                throw ClientTLSError(
                    setting: .keyFile, path: keyFile, message: "holds no usable PEM private key (\(error))")
            }
        }
        if configuration.insecureSkipVerify { tls.certificateVerification = .none }
        do {
            let context = try NIOSSLContext(configuration: tls)
            return NIOSSLClientSecurity(context: context, serverName: configuration.serverName)
        } catch {
            throw ClientTLSError(
                setting: material.privateKey == nil ? .caFile : .keyFile,
                path: (material.privateKey == nil ? configuration.caFile : configuration.keyFile) ?? "",
                message: material.privateKey == nil
                    ? "cannot be used for TLS (\(error))" : "does not go with the certificate (\(error))")
        }
    }

    private func certificates(_ pem: [UInt8], setting: ClientTLS.Setting, path: String) throws(ClientTLSError)
        -> [NIOSSLCertificate]
    {
        let certificates = try? NIOSSLCertificate.fromPEMBytes(pem)
        guard let certificates, !certificates.isEmpty else {
            throw ClientTLSError(setting: setting, path: path, message: "holds no PEM certificate")
        }
        return certificates
    }
}

/// One TLS context, applied to each new connection with the name the server's certificate must carry.
struct NIOSSLClientSecurity: ClientConnectionSecurity {
    let context: NIOSSLContext
    let serverName: String?

    func secure(_ pipeline: ChannelPipeline.SynchronousOperations, host: String) throws {
        let name = serverName ?? host
        // An address is not sent in SNI; the certificate is then matched against the address connected to.
        try pipeline.addHandler(
            NIOSSLClientHandler(context: context, serverHostname: Self.isAddress(name) ? nil : name))
    }

    func describe(_ error: any Error) -> String? {
        switch error {
        case NIOSSLError.handshakeFailed(let error): "TLS handshake failed: \(Self.reasons(error))"
        case NIOSSLError.uncleanShutdown: "TLS: the server closed the connection without close_notify"
        case let error as BoringSSLError: "TLS: \(Self.reasons(error))"
        case let error as NIOSSLError: "TLS: \(error)"
        case let error as NIOSSLExtraError: "TLS: \(error)"
        default: nil
        }
    }

    /// BoringSSL's reason codes (`CERTIFICATE_VERIFY_FAILED`), without the codes and source paths around them.
    static func reasons(_ error: BoringSSLError) -> String {
        let text = String(describing: error)
        let reasons = text.split(separator: "OPENSSL_internal:").dropFirst().map { $0.prefix { $0 != " " } }
        return reasons.isEmpty ? text : reasons.joined(separator: ", ")
    }

    static func isAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}
