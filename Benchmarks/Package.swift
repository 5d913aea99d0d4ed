// swift-tools-version:6.1
import Foundation
import PackageDescription

// SwiftPM names a path dependency after its folder, which is whatever the checkout is called.
let kataPulsePackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent

// Benchmarks live in their own package so that `swift build` / `swift test` of KataPulse do not build
// the benchmark harness. Run: swift package --package-path Benchmarks benchmark
let package = Package(
    name: "KataPulseBenchmarks",
    dependencies: [
        .package(path: ".."),
        .package(
            url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ExpositionBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "KataPulse", package: kataPulsePackage),
                .product(name: "KataPulseSimulator", package: kataPulsePackage),
            ],
            path: "Benchmarks/ExpositionBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // A round's per-sandbox work in a loop, for valgrind --tool=callgrind (instruction counts).
        .executableTarget(
            name: "RoundProfile",
            dependencies: [
                .product(name: "KataPulse", package: kataPulsePackage),
                .product(name: "KataPulseSimulator", package: kataPulsePackage),
            ],
            path: "Profiling/RoundProfile"
        ),
    ],
    swiftLanguageModes: [.v6]
)
