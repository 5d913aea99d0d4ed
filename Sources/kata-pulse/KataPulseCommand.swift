import ArgumentParser
import KataPulse

/// `kata-pulse`: runs the agent (like `kata-pulse run`); `simulate` and `demo` are subcommands.
struct KataPulseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kata-pulse",
        abstract: "Collects every Kata sandbox shim's metrics and serves them, kata-monitor compatible.",
        discussion: """
            Without a subcommand, runs the agent. Every option can also be set through the environment \
            variable named in its help; a flag wins over the environment.
            """,
        version: KataPulseVersion.string,
        subcommands: [RunCommand.self, SimulateCommand.self, DemoCommand.self]
    )

    @OptionGroup var options: AgentOptions

    func run() async throws {
        try await runAgent(options)
    }
}
