import KataPulse
import KataPulseSimulator

/// What the command line asks for: the agent (`kata-pulse`, `kata-pulse run`), a simulated node, or a text.
enum Command {
    case agent(AgentSettings)
    case demo(DemoSettings)
    case simulate(ShimSimulator.Configuration)
    /// Validate web configuration files, as `promtool check web-config` does.
    case checkWebConfig([String])
    /// Print this and exit 0 (`--help`, `--version`).
    case text(String)

    static let subcommands = ["run", "simulate", "demo", "check-web-config", "help"]

    /// Parses the arguments after the program name; `environment` supplies the agent options' variables.
    static func parse(_ arguments: [String], environment: [String: String]) throws(UsageError) -> Command {
        // As kata-monitor: the version only as the first argument, never as another flag's value.
        if let first = arguments.first, ["--version", "-version", "version"].contains(first) {
            return .text(KataPulseVersion.string)
        }
        var arguments = arguments[...]
        let name = arguments.first.flatMap { subcommands.contains($0) ? $0 : nil }
        if name != nil { arguments = arguments.dropFirst() }
        if name == "help" { return .text(HelpText.render(for: arguments.first)) }
        let rest = Array(arguments)
        switch name {
        case "simulate":
            let table = SimulationOptions.simulateTable
            if table.asksForHelp(rest) { return .text(HelpText.render(for: name)) }
            let configuration = try table.resolve(rest, environment: [:], defaults: .init(root: ""))
            guard !configuration.root.isEmpty else { throw UsageError(description: "simulate needs --root DIR") }
            return .simulate(configuration)
        case "check-web-config":
            if rest.contains("--help") || rest.contains("-h") { return .text(HelpText.render(for: name)) }
            guard !rest.isEmpty else { throw UsageError(description: "check-web-config needs at least one FILE") }
            return .checkWebConfig(rest)
        case "demo":
            if DemoSettings.table.asksForHelp(rest) { return .text(HelpText.render(for: name)) }
            let settings = try DemoSettings.table.resolve(rest, environment: environment, defaults: DemoSettings())
            try settings.agent.agent.checkCombinations()
            return .demo(settings)
        default:
            if AgentOptions.table.asksForHelp(rest) { return .text(HelpText.render(for: nil)) }
            let settings = try AgentOptions.table.resolve(rest, environment: environment, defaults: AgentSettings())
            try settings.agent.checkCombinations()
            return .agent(settings)
        }
    }
}

/// `kata-pulse demo`: the agent's settings (a shorter round, no CRI) and the simulated node's.
struct DemoSettings: Sendable {
    var agent: AgentSettings = {
        var settings = AgentSettings()
        settings.agent.collection.interval = .seconds(5)
        settings.cri = nil
        return settings
    }()
    var simulation = ShimSimulator.Configuration(root: "")

    static let table = OptionTable(
        SimulationOptions.table.options.map { $0.lifted(\DemoSettings.simulation) }
            + AgentOptions.table.options.map { $0.lifted(\DemoSettings.agent) })
}

extension AgentConfiguration {
    /// Settings that are valid one by one but not together.
    func checkCombinations() throws(UsageError) {
        if let problem = remoteWrite.credentialsProblem {
            throw UsageError(
                description: "\(problem) (--remote-write-bearer-token-file, --remote-write-basic-auth-username, "
                    + "--remote-write-basic-auth-password-file)")
        }
        if let problem = remoteWrite.tls.problem {
            throw UsageError(
                description:
                    "remote write's TLS: \(problem) (--remote-write-tls-cert-file, --remote-write-tls-key-file)")
        }
        if remoteWrite.tls.isSet, !remoteWrite.urls.contains(where: \.isSecure) {
            // Most likely a typo in the URL, which would send the credentials in the clear.
            throw UsageError(
                description: "--remote-write-tls-* settings are given, but no --remote-write-url is https://")
        }
    }
}
