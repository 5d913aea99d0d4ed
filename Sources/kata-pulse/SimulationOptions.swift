import KataPulse
import KataPulseSimulator

/// The simulator's options: `kata-pulse simulate` and `kata-pulse demo` take these.
enum SimulationOptions {
    static let table = OptionTable<ShimSimulator.Configuration>([
        .value(
            "sandboxes", "COUNT", help: "Number of simulated sandboxes.", \.sandboxes, .integer(0...10_000)),
        .value(
            "ids", "IDS", help: "Comma-separated sandbox ids to use first (others are generated).", \.ids, .sandboxIDs),
        .value("flavor", "FLAVOR", help: "Shim flavor: go, rust or mixed.", \.flavors, .flavors),
        .value(
            "faults", "FAULTS",
            help:
                "Faults, MODE:COUNT,… with MODE one of \(SimulatedFault.allCases.map(\.rawValue).joined(separator: ", ")); one sandbox each.",
            \.faults, .faults, defaultText: "none"),
        .value(
            "hypervisors", "TYPES",
            help:
                "VMMs of the runtime-rs (rust) sandboxes, taken in turn and written to their state.json; as upstream's, "
                + "qemu and firecracker shims abort when asked for /metrics.",
            \.hypervisors, .hypervisorNames),
        .value("seed", "SEED", help: "Seed for ids and values.", \.seed, .unsigned),
    ])

    /// `simulate`'s options: the simulator's and the root to serve under.
    static let simulateTable = OptionTable(table.options + [root])

    /// `simulate`'s own option, the root to serve under.
    static let root = CommandLineOption<ShimSimulator.Configuration>.value(
        "root", "DIR", help: "The sandbox root to create sandboxes under, e.g. /run/vc/sbs (required).", \.root,
        .absolutePath, defaultText: "none")
}

extension ValueParser where Value == [String] {
    static let sandboxIDs = Self(
        parse: { (text: String) throws(ValueError) -> [String] in
            let ids = text.split(separator: ",").map(String.init)
            guard ids.allSatisfy(SandboxID.isValid) else { throw ValueError(expected: "valid sandbox ids") }
            return ids
        }, format: { $0.isEmpty ? "none" : $0.joined(separator: ",") })
}

extension ValueParser where Value == [ShimFlavor] {
    /// `go`, `rust`, or `mixed` (alternating).
    static let flavors = Self.accepting(
        "go, rust or mixed",
        { $0 == "mixed" ? [.go, .rust] : ShimFlavor(rawValue: $0).map { [$0] } },
        format: { $0.count > 1 ? "mixed" : $0.first?.rawValue ?? "go" })
}

extension ValueParser where Value == [(SimulatedFault, Int)] {
    static let faults = Self(
        parse: { (text: String) throws(ValueError) -> [(SimulatedFault, Int)] in
            switch ShimSimulator.Configuration.parseFaults(text) {
            case .success(let faults): return faults
            case .failure(let error): throw ValueError(expected: "MODE:COUNT,… (\(error))")
            }
        }, format: { $0.map { "\($0.0.rawValue):\($0.1)" }.joined(separator: ",") })
}

extension ValueParser where Value == [String] {
    /// Comma-separated hypervisor types in order (`qemu,dragonball`).
    static let hypervisorNames = Self(
        parse: { (text: String) throws(ValueError) -> [String] in
            let names = text.split(separator: ",").map { $0.trimmingSpaces() }
            guard !names.isEmpty,
                names.allSatisfy({ !$0.isEmpty && (try? ValueParser<Set<String>>.hypervisorTypes.parse($0)) != nil })
            else { throw ValueError(expected: "comma-separated hypervisor types such as qemu,dragonball") }
            return names
        }, format: { $0.joined(separator: ",") })
}
