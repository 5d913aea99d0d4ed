import NIOCore

/// Secures one outgoing connection (TLS), in front of HTTP.
public protocol ClientConnectionSecurity: Sendable {
    /// Adds the handlers that secure a new connection to `host` (the URL's host, a name or an address);
    /// called on its event loop before HTTP is set up.
    func secure(_ pipeline: ChannelPipeline.SynchronousOperations, host: String) throws

    /// One of the TLS stack's errors in a few words (for the logs), or nil when `error` is not one.
    func describe(_ error: any Error) -> String?
}

/// Makes the ``ClientConnectionSecurity`` of a ``ClientTLS/Configuration``: the executable passes
/// `KataPulseTLS`'s, so this library does not depend on a TLS stack.
public protocol TLSClientProvider: Sendable {
    /// Builds TLS from the files' contents; an error names the setting whose file is unusable.
    func makeSecurity(
        _ configuration: ClientTLS.Configuration, material: ClientTLSMaterial
    ) throws(ClientTLSError) -> any ClientConnectionSecurity
}

/// The contents of the files a ``ClientTLS/Configuration`` names, PEM.
public struct ClientTLSMaterial: Sendable, Equatable {
    /// The CAs the server's certificate is verified against; nil: the system's.
    public var authorities: [UInt8]?
    /// The agent's own certificate chain and its private key, shown when the server asks for one.
    public var certificateChain: [UInt8]?
    public var privateKey: [UInt8]?
}

/// A TLS file the agent cannot use: which setting, which file, and why.
public struct ClientTLSError: Error, Sendable, Equatable, CustomStringConvertible {
    public var setting: ClientTLS.Setting
    public var path: String
    public var message: String

    public init(setting: ClientTLS.Setting, path: String, message: String) {
        self.setting = setting
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
