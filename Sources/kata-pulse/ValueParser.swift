import KataPulse
import Logging

/// Turns the text of a flag or environment variable into a typed value, and a value back into the text
/// `--help` shows as its default.
struct ValueParser<Value>: Sendable {
    let parse: @Sendable (String) throws(ValueError) -> Value
    let format: @Sendable (Value) -> String

    /// The same parser for an optional field; nil formats as `none`.
    var optional: ValueParser<Value?> {
        let (parse, format) = (self.parse, self.format)
        return ValueParser<Value?>(
            parse: { (text: String) throws(ValueError) -> Value? in try parse(text) },
            format: { $0.map(format) ?? "none" })
    }
}

extension ValueParser where Value == Int {
    static func integer(_ range: ClosedRange<Int>) -> Self {
        Self(
            parse: { (text: String) throws(ValueError) -> Int in
                guard let number = Int(text.trimmingSpaces()), range.contains(number) else {
                    throw ValueError(expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
                }
                return number
            }, format: { String($0) })
    }
}

extension ValueParser where Value == UInt64 {
    static let unsigned = Self(
        parse: { (text: String) throws(ValueError) -> UInt64 in
            guard let number = UInt64(text.trimmingSpaces()) else { throw ValueError(expected: "an unsigned integer") }
            return number
        }, format: { String($0) })
}

extension ValueParser where Value == Duration {
    static func seconds(_ range: ClosedRange<Int>) -> Self {
        ValueParser<Int>.integer(range).map(to: { .seconds($0) }, from: { Int($0.seconds) })
    }

    static func milliseconds(_ range: ClosedRange<Int>) -> Self {
        ValueParser<Int>.integer(range).map(to: { .milliseconds($0) }, from: \.milliseconds)
    }
}

extension ValueParser where Value == Duration {
    /// A Prometheus-style duration (`10s`, `500ms`, `1m30s`), from one millisecond to `maximum`.
    static func duration(maximum: Duration) -> Self {
        let units: [(suffix: String, milliseconds: Int)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)]
        return Self(
            parse: { (text: String) throws(ValueError) -> Duration in
                let expected = ValueError(expected: "a duration such as 10s, 500ms or 1m, at most \(maximum)")
                var rest = Substring(text.trimmingSpaces())
                var total = 0
                while !rest.isEmpty {
                    let digits = rest.prefix(while: \.isNumber)
                    rest = rest.dropFirst(digits.count)
                    let unit = units.filter { rest.hasPrefix($0.suffix) }.max { $0.suffix.count < $1.suffix.count }
                    guard let number = Int(digits), let unit, number <= 1_000_000_000 else { throw expected }
                    rest = rest.dropFirst(unit.suffix.count)
                    total += number * unit.milliseconds
                }
                let duration = Duration.milliseconds(total)
                guard total > 0, duration <= maximum else { throw expected }
                return duration
            },
            format: { $0.milliseconds % 1000 == 0 ? "\($0.milliseconds / 1000)s" : "\($0.milliseconds)ms" })
    }
}

extension ValueParser {
    /// This parser's values carried over to another type.
    func map<Other>(
        to forward: @escaping @Sendable (Value) -> Other, from backward: @escaping @Sendable (Other) -> Value
    )
        -> ValueParser<Other>
    {
        let (parse, format) = (self.parse, self.format)
        return ValueParser<Other>(
            parse: { (text: String) throws(ValueError) -> Other in forward(try parse(text)) },
            format: { format(backward($0)) })
    }

    /// A parser that accepts exactly what `make` does (nil is rejected with `expected`).
    static func accepting(
        _ expected: String, _ make: @escaping @Sendable (String) -> Value?,
        format: @escaping @Sendable (Value) -> String
    ) -> Self {
        Self(
            parse: { (text: String) throws(ValueError) -> Value in
                guard let value = make(text) else { throw ValueError(expected: expected) }
                return value
            }, format: format)
    }
}

extension ValueParser where Value == String {
    /// Any text that is not empty.
    static let text = Self.accepting("a non-empty value", { $0.isEmpty ? nil : $0 }, format: { $0 })

    /// Any text, the empty one included.
    static let anyText = Self.accepting("text", { $0 }, format: { $0 })

    static let absolutePath = Self.accepting(
        "an absolute path", { $0.hasPrefix("/") ? $0.droppingTrailingSlashes() : nil }, format: { $0 })

    static let textfileName = Self.accepting(
        "a file name ending in .prom",
        { $0.hasSuffix(".prom") && !$0.contains("/") && !$0.hasPrefix(".") ? $0 : nil }, format: { $0 })
}

extension ValueParser where Value == Bool {
    static let boolean = Self.accepting(
        "true or false",
        {
            switch $0.lowercased() {
            case "1", "true", "yes", "on": true
            case "0", "false", "no", "off": false
            default: nil
            }
        }, format: { $0 ? "true" : "false" })
}

extension ValueParser where Value == ListenAddress {
    static let listenAddress = Self.accepting(
        "host:port, [v6]:port or unix:/path", ListenAddress.init(parsing:), format: { $0.description })
}

extension ValueParser where Value == ExpositionSet {
    static let exposition = Self.accepting(
        "kata, cadvisor or kata,cadvisor", ExpositionSet.init(parsing:), format: { $0.description })
}

extension ValueParser where Value == DiskFilter {
    static let diskFilter = Self(
        parse: { (text: String) throws(ValueError) -> DiskFilter in
            do {
                return try DiskFilter(excluding: text)
            } catch {
                throw ValueError(expected: "a regular expression (\(error))")
            }
        }, format: { $0.pattern })
}

extension ValueParser where Value == PushgatewayURL {
    static let pushgatewayURL = Self.accepting(
        "http://host[:port][/path]", PushgatewayURL.init(parsing:), format: { $0.description })
}

extension ValueParser where Value == RemoteWriteURL {
    static let remoteWriteURL = Self.accepting(
        "http[s]://host[:port][/path]", RemoteWriteURL.init(parsing:), format: { $0.description })
}

extension ValueParser where Value == Label {
    /// `name=value`, the name a Prometheus label name (the value may be empty).
    static let externalLabel = Self.accepting(
        "NAME=VALUE with a label name",
        { text in
            guard let equals = text.firstIndex(of: "=") else { return nil }
            let name = String(text[..<equals])
            guard let first = name.utf8.first,
                first == UInt8(ascii: "_") || (first | 0x20) >= 0x61 && (first | 0x20) <= 0x7a,
                name.utf8.allSatisfy({
                    $0 == UInt8(ascii: "_") || ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7a || $0 >= 0x30 && $0 <= 0x39
                }),
                !name.hasPrefix("__")
            else { return nil }
            return Label(name, String(text[text.index(after: equals)...]))
        }, format: { "\($0.name)=\($0.value)" })
}

extension ValueParser where Value == LogFormat {
    static let logFormat = Self.accepting(
        "auto, journald, logfmt or json", LogFormat.init(rawValue:), format: { $0.rawValue })
}

extension ValueParser where Value == Logger.Level {
    /// kata-monitor's levels (logrus: trace, debug, info, warn, warning, error, fatal, panic); a `RUST_LOG`
    /// directive list (`target=level,…`) gives its last level.
    static let logLevel = Self.accepting(
        "trace, debug, info, warn, error, fatal or panic",
        { text in
            let directive = text.split(separator: ",").last.map { $0.split(separator: "=").last ?? "" } ?? ""
            switch directive.trimmingSpaces().lowercased() {
            case "trace": return .trace
            case "debug": return .debug
            case "info": return .info
            case "warn", "warning": return .warning
            case "error": return .error
            case "fatal", "panic": return .critical
            default: return nil
            }
        },
        format: {
            switch $0 {
            case .trace: "trace"
            case .debug: "debug"
            case .info, .notice: "info"
            case .warning: "warn"
            case .error: "error"
            case .critical: "fatal"
            }
        })
}

extension ValueParser where Value == String? {
    /// A CRI endpoint: `/path`, `unix:///path`, `unix:/path`, or `none` (nil: CRI off).
    static let runtimeEndpoint = Self(
        parse: { (text: String) throws(ValueError) -> String? in
            if text == "none" { return nil }
            var path = Substring(text)
            if path.hasPrefix("unix://") {
                path = path.dropFirst("unix://".count)
            } else if path.hasPrefix("unix:") {
                path = path.dropFirst("unix:".count)
            }
            guard path.hasPrefix("/"), !path.contains("\0") else {
                throw ValueError(expected: "a unix socket path (/path, unix:///path, unix:/path) or none")
            }
            guard path.utf8.count <= UnixSocketPath.maxLength else {
                throw ValueError(expected: "a unix socket path of at most \(UnixSocketPath.maxLength) bytes")
            }
            return String(path)
        }, format: { $0 ?? "none" })
}

extension ValueParser where Value == Set<String> {
    /// Comma-separated runtime-rs hypervisor types (`qemu,firecracker`); empty for none.
    static let hypervisorTypes = Self(
        parse: { (text: String) throws(ValueError) -> Set<String> in
            var types: Set<String> = []
            for item in text.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingSpaces() }) {
                if item.isEmpty && !text.contains(",") { continue }
                guard !item.isEmpty,
                    item.utf8.allSatisfy({ $0.isLowercaseASCIIAlphanumeric || $0 == UInt8(ascii: "_") })
                else {
                    throw ValueError(
                        expected: "comma-separated hypervisor types such as qemu,firecracker (lowercase), or empty")
                }
                types.insert(item)
            }
            return types
        }, format: { $0.isEmpty ? "none" : $0.sorted().joined(separator: ",") })
}

extension UInt8 {
    fileprivate var isLowercaseASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
