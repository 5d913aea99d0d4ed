// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "kata-pulse",
    products: [
        .executable(name: "kata-pulse", targets: ["kata-pulse"]),
        .library(name: "KataPulse", targets: ["KataPulse"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
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
        // glibc's malloc_trim: returns a round's freed memory to the kernel.
        .systemLibrary(name: "CMalloc"),
        .target(
            name: "KataPulse",
            dependencies: [
                "CSystemd",
                "CZlib",
                "CMalloc",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "kata-pulse",
            dependencies: [
                "KataPulse",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "KataPulseTests",
            dependencies: [
                "KataPulse",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
