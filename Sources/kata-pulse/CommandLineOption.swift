/// One setting of a command: its flag spellings, environment variables, default, help, and how its text
/// becomes the typed value it writes into `Settings`. Parsing, the environment fallback and `--help` all
/// come from these declarations; tests check the man page and the README against them.
struct CommandLineOption<Settings>: Sendable {
    /// `--long`; with ``goStyle`` also `-long`.
    let long: String
    let short: Character?
    /// Also spelled with one dash, as Go's flag package allows (kata-monitor's own flags).
    let goStyle: Bool
    /// Variables read when the flag is absent, first set wins; an invalid value is an error.
    let environment: [String]
    /// Variables read after ``environment``; an invalid value is ignored (older tools' conventions).
    let legacyEnvironment: [String]
    /// The value's placeholder in `--help`; nil for a switch, which takes no value.
    let valueName: String?
    let help: String
    /// Each occurrence adds a value (the environment variable holds a list, ``environmentSeparator`` between items).
    let repeatable: Bool
    /// The default as `--help` and the man page say it, from the defaults in effect.
    let defaultText: @Sendable (Settings) -> String
    /// Parses one value (all of them, for a repeatable option) and stores it.
    let apply: @Sendable (inout Settings, [String]) throws(ValueError) -> Void
    /// Between a repeatable option's items in its environment variable.
    var environmentSeparator: Character = ":"

    /// An option whose value is parsed by `parser` into the field at `keyPath`.
    static func value<Value>(
        _ long: String, short: Character? = nil, goStyle: Bool = false, environment: [String] = [],
        legacyEnvironment: [String] = [], _ valueName: String, help: String,
        _ keyPath: WritableKeyPath<Settings, Value> & Sendable, _ parser: ValueParser<Value>,
        defaultText: String? = nil
    ) -> Self {
        Self(
            long: long, short: short, goStyle: goStyle, environment: environment, legacyEnvironment: legacyEnvironment,
            valueName: valueName, help: help, repeatable: false,
            defaultText: { defaultText ?? parser.format($0[keyPath: keyPath]) },
            apply: { (settings: inout Settings, values: [String]) throws(ValueError) in
                settings[keyPath: keyPath] = try parser.parse(values.last ?? "")
            })
    }

    /// A repeatable option: every occurrence is one item of the list, parsed by `item`; the variable holds
    /// items joined by `separator` (``OptionTable`` splits it).
    static func list<Item>(
        _ long: String, environment: [String], separator: Character = ":", _ valueName: String, help: String,
        _ keyPath: WritableKeyPath<Settings, [Item]> & Sendable, _ item: ValueParser<Item>,
        defaultText: String? = nil
    ) -> Self {
        Self(
            long: long, short: nil, goStyle: false, environment: environment, legacyEnvironment: [],
            valueName: valueName, help: help, repeatable: true,
            defaultText: { defaultText ?? $0[keyPath: keyPath].map(item.format).joined(separator: " and ") },
            apply: { (settings: inout Settings, values: [String]) throws(ValueError) in
                let items = values.filter { !$0.isEmpty }
                guard !items.isEmpty else { throw ValueError(expected: "at least one item") }
                var parsed: [Item] = []
                for text in items { parsed.append(try item.parse(text)) }
                settings[keyPath: keyPath] = parsed
            }, environmentSeparator: separator)
    }

    /// A switch: `--name` turns it on; `--name=false` and the variable's `true`/`false` also work.
    static func toggle(
        _ long: String, environment: [String], help: String, _ keyPath: WritableKeyPath<Settings, Bool> & Sendable
    ) -> Self {
        Self(
            long: long, short: nil, goStyle: false, environment: environment, legacyEnvironment: [],
            valueName: nil, help: help, repeatable: false,
            defaultText: { ValueParser.boolean.format($0[keyPath: keyPath]) },
            apply: { (settings: inout Settings, values: [String]) throws(ValueError) in
                settings[keyPath: keyPath] = try ValueParser.boolean.parse(values.last ?? "true")
            })
    }

    /// The flag as `--help` lists it: `-l, --listen-address ADDRESS`.
    var synopsis: String {
        var names = short.map { ["-\($0)"] } ?? []
        if goStyle { names.append("-\(long)") }
        names.append("--\(long)")
        return names.joined(separator: ", ") + (valueName.map { " \($0)" } ?? "")
    }
}

extension CommandLineOption {
    /// The same option, for settings that hold these settings at `keyPath` (a command with two tables).
    func lifted<Outer>(_ keyPath: WritableKeyPath<Outer, Settings> & Sendable) -> CommandLineOption<Outer> {
        let (apply, defaultText) = (self.apply, self.defaultText)
        return CommandLineOption<Outer>(
            long: long, short: short, goStyle: goStyle, environment: environment,
            legacyEnvironment: legacyEnvironment, valueName: valueName, help: help, repeatable: repeatable,
            defaultText: { defaultText($0[keyPath: keyPath]) },
            apply: { (outer: inout Outer, values: [String]) throws(ValueError) in
                try apply(&outer[keyPath: keyPath], values)
            }, environmentSeparator: environmentSeparator)
    }
}
