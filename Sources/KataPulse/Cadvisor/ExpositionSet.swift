/// Which series the agent publishes: kata-monitor's relabelled shim families, cAdvisor's `container_*`
/// families, or both. The agent's own families are always published.
public struct ExpositionSet: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int

    public init(rawValue: Int) {
        self.rawValue = rawValue
    }

    /// The kata-monitor-compatible families (`kata_*`, with `sandbox_id` and `cri_*` labels).
    public static let kata = ExpositionSet(rawValue: 1 << 0)
    /// cAdvisor's `container_*` families derived from the guest.
    public static let cadvisor = ExpositionSet(rawValue: 1 << 1)
    public static let all: ExpositionSet = [.kata, .cadvisor]

    /// Parses `kata`, `cadvisor` or `kata,cadvisor`; nil for anything else or an empty set.
    public init?(parsing text: String) {
        var set: ExpositionSet = []
        for item in text.split(separator: ",") {
            switch item.trimmingSpaces() {
            case "kata": set.insert(.kata)
            case "cadvisor": set.insert(.cadvisor)
            default: return nil
            }
        }
        guard !set.isEmpty else { return nil }
        self = set
    }

    public var description: String {
        [contains(.kata) ? "kata" : nil, contains(.cadvisor) ? "cadvisor" : nil].compactMap { $0 }
            .joined(separator: ",")
    }
}
