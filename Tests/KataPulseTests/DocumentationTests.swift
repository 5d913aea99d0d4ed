import Testing

@testable import kata_pulse

#if canImport(Glibc)
    import Glibc
#endif

/// The README's flag table and the man page's option list are generated from the agent's option table; these
/// tests fail when either differs. `KATA_PULSE_UPDATE_DOCS=1 swift test --filter DocumentationTests` rewrites
/// both from the table.
@Suite struct DocumentationTests {
    static let repository: String = {
        let file = #filePath
        var path = Substring(file)
        for _ in 0..<3 { path = path[..<(path.lastIndex(of: "/") ?? path.startIndex)] }
        return String(path)
    }()

    @Test func readmeFlagTableIsTheOptionTable() throws {
        try check(
            "README.md", between: "<!-- flags: generated from the option table (DocumentationTests) -->\n",
            and: "<!-- end of flags -->", expected: Self.readmeTable())
    }

    @Test func manPageOptionsAreTheOptionTable() throws {
        try check(
            "packaging/debian/kata-pulse.1",
            between: ".\\\" options: generated from the option table (DocumentationTests)\n",
            and: ".\\\" end of options", expected: Self.manPageOptions())
    }

    /// `/etc/default/kata-pulse` shows every variable (but the listening address, which is the socket's) with
    /// a value the agent accepts; an empty value means the default.
    @Test func defaultsFileShowsEveryVariableWithAnAcceptedValue() throws {
        let path = "\(Self.repository)/packaging/debian/kata-pulse.default"
        let text = try #require(Self.read(path), "cannot read \(path)")
        let shown = text.split(separator: "\n").filter { $0.hasPrefix("#") && $0.contains("=") && !$0.contains(" ") }
            .map { line in
                let pair = line.dropFirst().split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(pair[0]), String(pair[1]))
            }
        let variables = AgentOptions.table.options.flatMap(\.environment)
        #expect(Set(shown.map(\.0)) == Set(variables).subtracting(["KATA_PULSE_LISTEN"]))
        for (name, value) in shown {
            #expect(
                (try? AgentOptions.table.resolve([], environment: [name: value], defaults: AgentSettings())) != nil,
                "\(name)=\(value) is not accepted")
        }
    }

    /// Every `kata-pulse …` command in the README's shell blocks is one the agent accepts (flags, values and
    /// their combinations), so an example cannot drift from the option table.
    @Test func readmeCommandsParse() throws {
        let path = "\(Self.repository)/README.md"
        let text = try #require(Self.read(path), "cannot read \(path)")
        var commands: [String] = []
        var inShell = false
        var pending = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inShell = line == "```sh"
                continue
            }
            guard inShell else { continue }
            pending += line.hasSuffix("\\") ? line.dropLast() : line
            if line.hasSuffix("\\") { continue }
            // A comment starts at a `#` after a space.
            let command = pending.firstRange(of: " #").map { String(pending[..<$0.lowerBound]) } ?? pending
            pending = ""
            if command.hasPrefix("kata-pulse ") { commands.append(command) }
        }
        #expect(commands.count >= 5, "the README's examples were not found")
        for command in commands {
            let words = command.split(whereSeparator: \.isWhitespace).dropFirst().map(String.init)
            #expect(throws: Never.self, "\(command)") { try Command.parse(words, environment: [:]) }
        }
    }

    private func check(_ relativePath: String, between start: String, and end: String, expected: String) throws {
        let path = "\(Self.repository)/\(relativePath)"
        let text = try #require(Self.read(path), "cannot read \(path)")
        let from = try #require(text.firstRange(of: start), "\(relativePath) has no marker \(start)")
        let to = try #require(text[from.upperBound...].firstRange(of: end), "\(relativePath) has no marker \(end)")
        let current = String(text[from.upperBound..<to.lowerBound])
        if current != expected, getenv("KATA_PULSE_UPDATE_DOCS") != nil {
            let updated = String(text[..<from.upperBound]) + expected + String(text[to.lowerBound...])
            let file = fopen(path, "w")
            fputs(updated, file)
            fclose(file)
            return
        }
        #expect(current == expected, "\(relativePath) differs from the option table; expected:\n\(expected)")
    }

    static func read(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func readmeTable() -> String {
        let defaults = AgentSettings()
        var lines = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
        for option in AgentOptions.table.options {
            var environment = option.environment.map { "`\($0)`" }.joined(separator: ", ")
            if !option.legacyEnvironment.isEmpty {
                environment += " (legacy " + option.legacyEnvironment.map { "`\($0)`" }.joined(separator: ", ") + ")"
            }
            let value = option.defaultText(defaults)
            let shownDefault = value.contains(" ") ? value : "`\(value)`"
            let help = option.help.replacing("|", with: "\\|")
            lines.append("| `\(option.synopsis)` | \(environment) | \(shownDefault) | \(help) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func manPageOptions() -> String {
        let defaults = AgentSettings()
        func roff(_ text: String) -> String { text.replacing("\\", with: "\\\\").replacing("-", with: "\\-") }
        var out = ""
        for option in AgentOptions.table.options {
            var names = option.short.map { ["-\($0)"] } ?? []
            if option.goStyle { names.append("-\(option.long)") }
            names.append("--\(option.long)")
            let value = option.valueName.map { " \" \\fI\($0)\\fR\"" } ?? ""
            out += ".TP\n"
            out +=
                names.count == 1 && value.isEmpty
                ? ".B \(roff(names[0]))\n"
                : ".BR " + names.map(roff).joined(separator: " \", \" ") + value + "\n"
            out += roff(option.help) + "\n"
            out += "Environment:\n.BR " + option.environment.joined(separator: " \", \" ") + " .\n"
            if !option.legacyEnvironment.isEmpty {
                out += "Legacy:\n.BR " + option.legacyEnvironment.joined(separator: " \", \" ") + " .\n"
            }
            out += "Default: \(roff(option.defaultText(defaults))).\n"
        }
        return out
    }
}
