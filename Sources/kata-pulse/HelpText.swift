import KataPulse

/// `--help` for the agent and each subcommand, from the option tables.
enum HelpText {
    static func render(for subcommand: String?) -> String {
        switch subcommand {
        case "simulate":
            return """
                Usage: kata-pulse simulate --root DIR [options]

                Serves simulated Kata shims under a sandbox root until killed (for trying and testing KataPulse).

                Options:
                \(SimulationOptions.simulateTable.help(defaults: .init(root: "")))
                """
        case "check-web-config":
            return """
                Usage: kata-pulse check-web-config FILE...

                \(wrap(
                    "Checks web configuration files (--web.config.file) as the agent loads them, certificates and keys "
                        + "included, and prints FILE SUCCESS or FILE FAILED: reason for each, as promtool check "
                        + "web-config does. Exits 0 when every file is usable, 1 otherwise.", indent: 0))
                """
        case "demo":
            return """
                Usage: kata-pulse demo [options]

                Runs simulated shims on a temporary sandbox root and the agent on it; prints the URL to open.

                Options:
                \(DemoSettings.table.help(defaults: DemoSettings()))
                """
        default:
            return """
                kata-pulse \(KataPulseVersion.string): collects every Kata sandbox shim's metrics and serves them, \
                kata-monitor compatible.

                Usage: kata-pulse [run] [options]
                       kata-pulse simulate --root DIR [options]
                       kata-pulse demo [options]
                       kata-pulse check-web-config FILE...
                       kata-pulse help [simulate | demo | check-web-config]
                       kata-pulse --version

                \(wrap(
                    "Without a subcommand, runs the agent. Every option can also be set through the environment "
                        + "variable named with it; a flag wins over the environment, which wins over the default. "
                        + "kata-monitor's -listen-address, -runtime-endpoint and -log-level are accepted as Go spells "
                        + "them (one or two dashes, =value or a separate value).", indent: 0))

                Options:
                \(AgentOptions.table.help(defaults: AgentSettings()))
                """
        }
    }

    /// `text` in lines of at most `width` characters, each indented by `indent` spaces.
    static func wrap(_ text: String, indent: Int, width: Int = 100) -> String {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && indent + line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        let margin = String(repeating: " ", count: indent)
        return lines.map { margin + $0 }.joined(separator: "\n")
    }
}
