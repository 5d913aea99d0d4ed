// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "kata-pulse",
    products: [
        .executable(name: "kata-pulse", targets: ["kata-pulse"]),
        .library(name: "KataPulse", targets: ["KataPulse"]),
        .library(name: "KataPulseCRI", targets: ["KataPulseCRI"]),
        .library(name: "KataPulseSimulator", targets: ["KataPulseSimulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // CRI (pod metadata): the gRPC stack and protobuf runtime the generated code in Sources/CRIRuntimeV1 uses.
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        // No default traits: BinaryDelimitedStreams imports all of Foundation, and with it 30 MB of ICU data.
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0", traits: []),
        // TLS for the HTTP API (--web.config.file), in KataPulseTLS only.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // libsystemd: sd_notify, sd_listen_fds_with_names, sd_is_socket, sd_watchdog_enabled, sd_journal_sendv.
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // zlib, for gzip-encoding the snapshot once per round.
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // libyaml: the web configuration file (YAML, as exporter-toolkit's).
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // libcrypt (libxcrypt): bcrypt, for the web configuration's basic_auth_users.
        .systemLibrary(
            name: "CCrypt",
            pkgConfig: "libcrypt",
            providers: [.apt(["libcrypt-dev"])]
        ),
        // libsnappy: block compression of remote-write requests.
        .systemLibrary(
            name: "CSnappy",
            providers: [.apt(["libsnappy-dev"])]
        ),
        // glibc's malloc_trim: returns a round's freed memory to the kernel.
        .systemLibrary(name: "CMalloc"),
        // Kubernetes CRI `runtime.v1`: code generated from Protos/runtime/v1/api.proto by scripts/generate-protos.sh.
        .target(
            name: "CRIRuntimeV1",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Prometheus remote write 1.0's `WriteRequest`: code generated from Protos/prometheus/remote.proto by
        // scripts/generate-protos.sh. The agent writes the wire format itself (TimeSeriesBuilder); the tests
        // check it against this code.
        .target(
            name: "PrometheusRemoteWrite",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .target(
            name: "KataPulse",
            dependencies: [
                "CSnappy",
                "CSystemd",
                "CZlib",
                "CMalloc",
                "CYAML",
                "CCrypt",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The CRI client: gRPC over the runtime's unix socket. A target of its own so that the core library
        // (and the benchmarks) build without the gRPC stack.
        .target(
            name: "KataPulseCRI",
            dependencies: [
                "KataPulse",
                "CRIRuntimeV1",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            ]
        ),
        // TLS for the HTTP API: a target of its own so that the core library (and the benchmarks and fuzzers)
        // build without BoringSSL.
        .target(
            name: "KataPulseTLS",
            dependencies: [
                "KataPulse",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Simulated Kata shims (a Kata VM cannot run on a build machine): for `demo`, `simulate`, the tests and
        // the benchmarks; the agent's library does not depend on it.
        .target(
            name: "KataPulseSimulator",
            dependencies: [
                "KataPulse",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "kata-pulse",
            dependencies: [
                "KataPulse",
                "KataPulseCRI",
                "KataPulseTLS",
                "KataPulseSimulator",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "KataPulseTests",
            dependencies: [
                "KataPulse",
                "KataPulseCRI",
                "KataPulseTLS",
                "KataPulseSimulator",
                "kata-pulse",
                "CRIRuntimeV1",
                "PrometheusRemoteWrite",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
