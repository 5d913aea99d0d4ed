// swift-tools-version:6.1
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, which is whatever the checkout is called.
let kataPulsePackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent

/// One executable per fuzz target, each `Sources/<name>/main.swift` defining `LLVMFuzzerTestOneInput`;
/// `scripts/fuzz.sh` runs `FuzzWebConfig` as `web-config`, over `Corpus/web-config/`. Adding a target is a
/// name here, its main.swift and its seed corpus.
let fuzzTargets = ["FuzzExposition", "FuzzRequest", "FuzzWebConfig"]

// libFuzzer targets for the core library (the KataPulse target and its dependencies only: no gRPC, no TLS,
// no executable), in their own package so that the agent's build never sees them. Build and run with
// scripts/fuzz.sh, which passes the sanitizer flags; a plain `swift build` here links executables that do
// nothing.
let package = Package(
    name: "KataPulseFuzz",
    dependencies: [
        .package(path: "..")
    ],
    targets: [
        // What every target shares: the input, and how a broken property stops the run.
        .target(name: "FuzzSupport")
    ]
        + fuzzTargets.map { name in
            .executableTarget(
                name: name,
                dependencies: ["FuzzSupport", .product(name: "KataPulse", package: kataPulsePackage)]
            )
        },
    swiftLanguageModes: [.v6]
)
