/// Where pod metadata comes from: the node's container runtime, over CRI (`KataPulseCRI.CRIClient`).
public protocol PodMetadataSource: Sendable {
    /// The runtime's address, for logs and the status line.
    var endpoint: String { get }
    /// Maintains the connection to the runtime until cancelled; calls proceed only while it runs.
    func run() async throws
    /// The runtime's name and versions.
    func version() async throws(CRIError) -> CRIRuntimeVersion
    /// Every pod sandbox the runtime knows, by sandbox id.
    func listPodSandboxes() async throws(CRIError) -> [String: PodMetadata]
}

/// The runtime's answer to CRI `Version`.
public struct CRIRuntimeVersion: Sendable, Equatable {
    public var runtimeName: String
    public var runtimeVersion: String
    public var apiVersion: String

    public init(runtimeName: String, runtimeVersion: String, apiVersion: String) {
        self.runtimeName = runtimeName
        self.runtimeVersion = runtimeVersion
        self.apiVersion = apiVersion
    }
}

/// The CRI calls the agent makes.
public enum CRIMethod: String, Sendable, CaseIterable {
    case version = "Version"
    case listPodSandbox = "ListPodSandbox"
    case listContainers = "ListContainers"
    case listContainerStats = "ListContainerStats"

    /// Whether the call's outcome says if the runtime is reachable (the pod metadata calls do).
    var decidesReachability: Bool { self == .version || self == .listPodSandbox }
}

/// A failed CRI call: the method, its gRPC status code (Go's spelling, as in `grpc_code` labels) and message.
public struct CRIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var method: CRIMethod
    public var code: String
    public var message: String

    public var description: String { "\(method.rawValue): \(code): \(message)" }

    public init(method: CRIMethod, code: String, message: String) {
        self.method = method
        self.code = code
        self.message = message
    }

    /// gRPC status codes by number, spelled as Go's `codes.Code.String()`.
    public static let codeNames = [
        "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists",
        "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented",
        "Internal", "Unavailable", "DataLoss", "Unauthenticated",
    ]

    public static func codeName(_ code: Int) -> String {
        codeNames.indices.contains(code) ? codeNames[code] : "Code(\(code))"
    }
}
