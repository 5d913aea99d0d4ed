import NIOCore

/// Secures each accepted API connection (TLS), in front of HTTP.
public protocol ConnectionSecurity: Sendable {
    /// Adds the handlers that secure one new connection; called on its event loop before HTTP is set up.
    func secure(_ pipeline: ChannelPipeline.SynchronousOperations) throws
}

/// Makes the ``ConnectionSecurity`` of a `tls_server_config`: the executable passes `KataPulseTLS`'s, so this
/// library does not depend on a TLS stack.
public protocol TLSServerProvider: Sendable {
    /// Builds TLS from the certificate, key and client CAs read from the files `tls` names; an error names the
    /// field whose file is unusable.
    func makeSecurity(
        _ tls: WebConfiguration.TLSServer, material: TLSMaterial
    ) throws(WebConfigurationError) -> any ConnectionSecurity
}
