/// A command's options, in the order `--help` lists and resolution applies them.
struct OptionTable<Settings>: Sendable {
    let options: [CommandLineOption<Settings>]

    init(_ options: [CommandLineOption<Settings>]) {
        self.options = options
    }

    /// The settings the arguments and the environment give, over `defaults`: a flag wins over its variable,
    /// which wins over the default. Flags are spelled `--name value`, `--name=value`, `-x value` and, for
    /// Go-style options, `-name value` and `-name=value`.
    func resolve(_ arguments: [String], environment: [String: String], defaults: Settings) throws(UsageError)
        -> Settings
    {
        let given = try scan(arguments).given
        var settings = defaults
        for (index, option) in options.enumerated() {
            if let occurrence = given[index] {
                // A short flag is named with its long form too, so the message says which setting it is.
                let source =
                    occurrence.spelling.count == 2 ? "\(occurrence.spelling) (--\(option.long))" : occurrence.spelling
                try apply(option, occurrence.values, to: &settings, source: source)
            } else if let (name, text) = option.environment.lazy.compactMap({ name in
                environment[name].flatMap { $0.isEmpty ? nil : (name, $0) }
            }).first {
                // A repeatable option's variable holds its items joined by its separator.
                let values =
                    option.repeatable ? text.split(separator: option.environmentSeparator).map(String.init) : [text]
                try apply(option, values, to: &settings, source: "--\(option.long) (from \(name))")
            } else {
                for name in option.legacyEnvironment {
                    guard let text = environment[name], !text.isEmpty else { continue }
                    var candidate = settings
                    if (try? option.apply(&candidate, [text])) != nil {
                        settings = candidate
                        break
                    }
                }
            }
        }
        return settings
    }

    private func apply(
        _ option: CommandLineOption<Settings>, _ values: [String], to settings: inout Settings, source: String
    ) throws(UsageError) {
        do {
            try option.apply(&settings, values)
        } catch {
            let shown = values.count == 1 ? "'\(values[0])'" : values.map { "'\($0)'" }.joined(separator: ", ")
            throw UsageError(description: "invalid value \(shown) for \(source): expected \(error.expected)")
        }
    }

    private struct Occurrence {
        var spelling: String
        var values: [String]
    }

    /// Whether `-h`, `-help` or `--help` stands among the arguments as a flag (not as another flag's value).
    func asksForHelp(_ arguments: [String]) -> Bool {
        (try? scan(arguments).help) ?? arguments.contains { Self.helpFlags.contains($0) }
    }

    static var helpFlags: Set<String> { ["-h", "-help", "--help"] }

    /// The values given for each option, by index (the last occurrence wins unless the option is repeatable),
    /// and whether help was asked for.
    private func scan(_ arguments: [String]) throws(UsageError) -> (given: [Int: Occurrence], help: Bool) {
        var given: [Int: Occurrence] = [:]
        var help = false
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if Self.helpFlags.contains(argument) {
                help = true
                continue
            }
            guard argument.hasPrefix("-"), argument.count > 1 else {
                throw UsageError(description: "unexpected argument '\(argument)'; see --help")
            }
            let doubleDash = argument.hasPrefix("--")
            let body = argument.dropFirst(doubleDash ? 2 : 1)
            let name = String(body.prefix { $0 != "=" })
            let inline = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
            guard let position = lookup(name, doubleDash: doubleDash) else {
                throw UsageError(description: "unknown option '\(doubleDash ? "--" : "-")\(name)'; see --help")
            }
            let option = options[position]
            let spelling = "\(doubleDash ? "--" : "-")\(name)"
            let value: String
            if let inline {
                value = inline
            } else if option.valueName == nil {
                value = "true"
            } else {
                guard index < arguments.endIndex else {
                    throw UsageError(description: "missing value for \(spelling)")
                }
                value = arguments[index]
                index += 1
            }
            let previous = option.repeatable ? given[position]?.values ?? [] : []
            given[position] = Occurrence(spelling: spelling, values: previous + [value])
        }
        return (given, help)
    }

    private func lookup(_ name: String, doubleDash: Bool) -> Int? {
        options.firstIndex { option in
            if doubleDash { return option.long == name }
            if name.count == 1, let short = option.short { return String(short) == name }
            return option.goStyle && option.long == name
        }
    }

    /// The options section of `--help`.
    func help(defaults: Settings) -> String {
        options.map { option in
            var notes: [String] = []
            if !option.environment.isEmpty { notes.append("env: " + option.environment.joined(separator: ", ")) }
            if !option.legacyEnvironment.isEmpty {
                notes.append("legacy: " + option.legacyEnvironment.joined(separator: ", "))
            }
            notes.append("default: \(option.defaultText(defaults))")
            let text = option.help + " (" + notes.joined(separator: "; ") + ")"
            return "  \(option.synopsis)\n" + HelpText.wrap(text, indent: 8) + "\n"
        }.joined()
    }
}
