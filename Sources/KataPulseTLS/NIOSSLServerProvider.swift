import KataPulse
import NIOCore
import NIOSSL

/// TLS for the HTTP API through swift-nio-ssl (BoringSSL), from a web configuration's `tls_server_config`.
///
/// `client_auth_type` maps onto BoringSSL's verification modes as Go's does: `RequestClientCert` asks for a
/// certificate and accepts any or none, `RequireAnyClientCert` requires one but does not verify it,
/// `VerifyClientCertIfGiven` verifies one when given, `RequireAndVerifyClientCert` requires and verifies.
public struct NIOSSLServerProvider: TLSServerProvider {
    public init() {}

    public func makeSecurity(
        _ tls: WebConfiguration.TLSServer, material: TLSMaterial
    ) throws(WebConfigurationError) -> any ConnectionSecurity {
        let chain = try certificates(material.certificateChain, field: "cert_file", path: tls.certFile)
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: material.privateKey, format: .pem)
        } catch {
            throw problem("key_file", "\(tls.keyFile) holds no usable PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = Self.version(tls.minVersion)
        configuration.maximumTLSVersion = Self.version(tls.maxVersion)
        // TLS 1.3's suites are always on and cannot be chosen, in Go as in BoringSSL.
        let suites = tls.cipherSuites.filter { !(0x1301...0x1303).contains($0) }
        if !suites.isEmpty { configuration.cipherSuiteValues = suites.map { NIOTLSCipher($0) } }
        if !tls.curves.isEmpty { configuration.curves = tls.curves.map { NIOTLSCurve($0) } }
        switch tls.clientAuth {
        case .noClientCert: configuration.certificateVerification = .none
        case .requestClientCert, .verifyClientCertIfGiven: configuration.certificateVerification = .optionalVerification
        case .requireAnyClientCert, .requireAndVerifyClientCert:
            configuration.certificateVerification = .noHostnameVerification
        }
        if let clientCAs = material.clientCAs {
            let authorities = try certificates(clientCAs, field: "client_ca_file", path: tls.clientCAFile ?? "")
            configuration.trustRoots = .certificates(authorities)
            configuration.sendCANameList = true
        }
        do {
            let context = try NIOSSLContext(configuration: configuration)
            return NIOSSLSecurity(context: context, verifiesClients: tls.clientAuth.verifies)
        } catch {
            throw problem("cert_file", "\(tls.certFile) and \(tls.keyFile) cannot serve TLS (\(error))")
        }
    }

    private func certificates(_ pem: [UInt8], field: String, path: String) throws(WebConfigurationError)
        -> [NIOSSLCertificate]
    {
        let certificates = try? NIOSSLCertificate.fromPEMBytes(pem)
        guard let certificates, !certificates.isEmpty else {
            throw problem(field, "\(path) holds no PEM certificate")
        }
        return certificates
    }

    private func problem(_ field: String, _ message: String) -> WebConfigurationError {
        WebConfigurationError(field: "tls_server_config.\(field)", line: nil, message: message)
    }

    private static func version(_ version: WebConfiguration.TLSVersion) -> TLSVersion {
        switch version {
        case .tls10: .tlsv1
        case .tls11: .tlsv11
        case .tls12: .tlsv12
        case .tls13: .tlsv13
        }
    }
}

/// One TLS context, applied to each new connection: a plain-HTTP request is answered 400 as Go's server
/// answers it, then the handshake; certificates are accepted unverified where the policy does not verify.
struct NIOSSLSecurity: ConnectionSecurity {
    let context: NIOSSLContext
    let verifiesClients: Bool

    func secure(_ pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(PlaintextRequestRejector())
        if verifiesClients || context.configuration.certificateVerification == .none {
            try pipeline.addHandler(NIOSSLServerHandler(context: context))
        } else {
            // RequestClientCert and RequireAnyClientCert: a certificate is asked for (or required) but any
            // one is accepted.
            try pipeline.addHandler(
                NIOSSLServerHandler(
                    context: context,
                    customVerificationCallback: { _, promise in
                        promise.succeed(.certificateVerified)
                    }))
        }
    }
}
