import Foundation
import KataPulse
import KataPulseSimulator

// One sandbox's share of a collection round (read the shim's body, relabel, map to cAdvisor, render), run
// over consecutive bodies of a simulated Go shim, for instruction counts that repeat on a noisy machine:
//   swift build -c release --package-path Benchmarks --product RoundProfile
//   valgrind --tool=callgrind Benchmarks/.build/release/RoundProfile [ROUNDS]   (valgrind 3.19 needs the
//   binary without its DWARF 5 debug info: strip --strip-debug first)
// prints the bytes rendered; divide callgrind's total by ROUNDS × the body size for instructions per byte.
let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 100 : 100
let shim = SimulatedShimBody(sandboxID: "profile", flavor: .go, seed: 7)
// Fifteen seconds apart, as a shim is scraped: values move, series stay.
let bodies = (0..<8).map { shim.render(elapsed: 3_600 + Double($0) * 15) }
let identity = SandboxLabels(sandboxID: String(repeating: "a", count: 64))
let configuration = Collector.Configuration()
// KATA_PULSE_PROFILE_FULL_READS=1 reads every body in full, as if each had another shape than the last.
let fullReads = ProcessInfo.processInfo.environment["KATA_PULSE_PROFILE_FULL_READS"] == "1"
var rendered = 0
var shape: BodyShape?
for round in 0..<rounds {
    let body = bodies[round % bodies.count]
    if fullReads { shape = nil }
    rendered += try Collector.rendering(
        of: body, labels: identity, configuration: configuration, now: 1, shape: &shape
    ).buffer.readableBytes
}
print("rounds \(rounds), body \(bodies[0].count) bytes, rendered \(rendered) bytes")
