import ArgumentParser
import KataPulse
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The agent's options; each falls back to an environment variable, then to its default.
struct AgentOptions: ParsableArguments {
    @Option(
        name: [.short, .long],
        help:
            "Address to serve on: host:port, [v6]:port or unix:/path. (env: KATA_PULSE_LISTEN; default: 127.0.0.1:8090)"
    )
    var listenAddress: String?

    @Option(
        name: [.short, .long],
        help:
            "CRI socket for pod metadata (/path, unix:///path) or 'none'. (env: RUNTIME_ENDPOINT; default: /run/containerd/containerd.sock)"
    )
    var runtimeEndpoint: String?

    @Option(help: "Deadline for one CRI call, in milliseconds. (env: KATA_PULSE_CRI_TIMEOUT_MS; default: 2000)")
    var criTimeoutMs: String?

    @Option(
        help:
            "Seconds between full CRI re-lists; also the longest retry backoff. (env: KATA_PULSE_CRI_RESYNC_SECS; default: 30)"
    )
    var criResyncSecs: String?

    @Option(
        help:
            "Log level: trace, debug, info, warn, error. (env: KATA_PULSE_LOG_LEVEL, legacy RUST_LOG; default: info)")
    var logLevel: String?

    @Option(
        help:
            "Log format: auto (journald when stderr is the journal, else logfmt), journald, logfmt, json. (env: KATA_PULSE_LOG_FORMAT; default: auto)"
    )
    var logFormat: String?

    @Option(
        name: [.short, .customLong("metrics-interval-secs")],
        help: "Seconds between collection rounds. (env: KATA_PULSE_METRICS_INTERVAL; default: 60)")
    var metricsIntervalSecs: String?

    @Option(
        name: .customLong("sandbox-root"),
        help:
            "A directory holding one directory per sandbox; repeatable, searched in order. (env: KATA_PULSE_SANDBOX_ROOTS, ':'-separated; default: /run/vc/sbs and /run/kata)"
    )
    var sandboxRoots: [String] = []

    @Option(help: "Deadline for one shim request, in milliseconds. (env: KATA_PULSE_SHIM_TIMEOUT_MS; default: 3000)")
    var shimTimeoutMs: String?

    @Option(help: "Shims read at the same time. (env: KATA_PULSE_SHIM_CONCURRENCY; default: 16)")
    var shimConcurrency: String?

    @Option(help: "Largest shim body accepted, in bytes. (env: KATA_PULSE_MAX_BODY_BYTES; default: 33554432)")
    var maxBodyBytes: String?

    @Option(help: "Most series one sandbox may report. (env: KATA_PULSE_MAX_SERIES; default: 20000)")
    var maxSeries: String?

    @Option(help: "Most labels on one series. (env: KATA_PULSE_MAX_LABELS; default: 32)")
    var maxLabels: String?

    @Option(help: "Longest label value, in bytes. (env: KATA_PULSE_MAX_LABEL_VALUE_BYTES; default: 2048)")
    var maxLabelValueBytes: String?

    @Option(help: "Seconds between full rescans of the sandbox roots. (env: KATA_PULSE_RESCAN_INTERVAL; default: 30)")
    var rescanIntervalSecs: String?

    @Option(
        help:
            "Series to publish: kata (kata-monitor's), cadvisor (container_* for Kata pods) or kata,cadvisor. (env: KATA_PULSE_EXPOSITION; default: kata,cadvisor)"
    )
    var exposition: String?

    @Option(
        help:
            "Label the VM as a pseudo-container of this name in cAdvisor series (container and image labels). (env: KATA_PULSE_CADVISOR_VM_CONTAINER; default: none, pod-level shape)"
    )
    var cadvisorVMContainer: String?

    @Option(
        help:
            "Guest disks left out of container_fs_* (regular expression over the whole disk name). (env: KATA_PULSE_CADVISOR_DISK_EXCLUDE; default: partitions, loop, ram, fd, sr, zram, nbd, dm)"
    )
    var cadvisorDiskExclude: String?

    @Option(
        help:
            "Write a snapshot after every round into this node_exporter textfile directory, e.g. /var/lib/prometheus/node-exporter. (env: KATA_PULSE_TEXTFILE_DIR; default: off)"
    )
    var textfileDir: String?

    @Option(help: "The textfile's name; must end in .prom. (env: KATA_PULSE_TEXTFILE_NAME; default: kata-pulse.prom)")
    var textfileName: String?

    @Option(
        help:
            "Series in the textfile: kata, cadvisor or kata,cadvisor. (env: KATA_PULSE_TEXTFILE_EXPOSITION; default: as --exposition)"
    )
    var textfileExposition: String?

    @Flag(
        help:
            "Remove the textfile on a clean shutdown (by default it stays; node_exporter reports its age). (env: KATA_PULSE_TEXTFILE_REMOVE_ON_EXIT=true)"
    )
    var textfileRemoveOnExit = false

    @Option(
        help:
            "Push the snapshot after every round to this Pushgateway, http://host[:port][/path]. (env: KATA_PULSE_PUSHGATEWAY_URL; default: off)"
    )
    var pushgatewayUrl: String?

    @Option(help: "The push's job label. (env: KATA_PULSE_PUSHGATEWAY_JOB; default: kata-pulse)")
    var pushgatewayJob: String?

    @Option(help: "The push's instance label. (env: KATA_PULSE_PUSHGATEWAY_INSTANCE; default: the host name)")
    var pushgatewayInstance: String?

    @Option(help: "Deadline of one push, in milliseconds. (env: KATA_PULSE_PUSHGATEWAY_TIMEOUT_MS; default: 5000)")
    var pushgatewayTimeoutMs: String?

    /// Resolves flags, environment and defaults into a configuration; a bad value names its flag.
    func resolve(environment: [String: String], defaults: AgentConfiguration = AgentConfiguration()) throws(UsageError)
        -> AgentConfiguration
    {
        var configuration = defaults
        if let text = value(listenAddress, "KATA_PULSE_LISTEN", environment) {
            guard let address = ListenAddress(parsing: text.value) else {
                throw UsageError(
                    description:
                        "invalid value '\(text.value)' for \(text.source("--listen-address")): expected host:port, [v6]:port or unix:/path"
                )
            }
            configuration.listenAddress = address
        }
        if let text = value(runtimeEndpoint, "RUNTIME_ENDPOINT", environment) {
            switch AgentConfiguration.parseRuntimeEndpoint(text.value) {
            case .success(let endpoint): configuration.runtimeEndpoint = endpoint
            case .failure(let error):
                throw UsageError(description: "invalid value for \(text.source("--runtime-endpoint")): \(error)")
            }
        }
        if let milliseconds = try integer(
            criTimeoutMs, "--cri-timeout-ms", "KATA_PULSE_CRI_TIMEOUT_MS", environment, 1...600_000)
        {
            configuration.criTimeout = .milliseconds(milliseconds)
        }
        if let seconds = try integer(
            criResyncSecs, "--cri-resync-secs", "KATA_PULSE_CRI_RESYNC_SECS", environment, 1...86_400)
        {
            configuration.criResyncInterval = .seconds(seconds)
        }
        if let text = value(logLevel, "KATA_PULSE_LOG_LEVEL", environment) {
            guard let level = Self.parseLevel(text.value) else {
                throw UsageError(
                    description:
                        "invalid value '\(text.value)' for \(text.source("--log-level")): expected trace, debug, info, warn or error"
                )
            }
            configuration.logLevel = level
        } else if let legacy = environment["RUST_LOG"], let level = Self.parseLevel(legacy) {
            configuration.logLevel = level
        }
        if let text = value(logFormat, "KATA_PULSE_LOG_FORMAT", environment) {
            guard let format = LogFormat(rawValue: text.value) else {
                throw UsageError(
                    description:
                        "invalid value '\(text.value)' for \(text.source("--log-format")): expected auto, journald, logfmt or json"
                )
            }
            configuration.logFormat = format
        }
        if let seconds = try integer(
            metricsIntervalSecs, "--metrics-interval-secs", "KATA_PULSE_METRICS_INTERVAL", environment, 1...86_400)
        {
            configuration.metricsInterval = .seconds(seconds)
        }
        if !sandboxRoots.isEmpty {
            configuration.sandboxRoots = try roots(sandboxRoots, source: "--sandbox-root")
        } else if let text = environment["KATA_PULSE_SANDBOX_ROOTS"] {
            configuration.sandboxRoots = try roots(
                text.split(separator: ":").map(String.init), source: "KATA_PULSE_SANDBOX_ROOTS")
        }
        if let milliseconds = try integer(
            shimTimeoutMs, "--shim-timeout-ms", "KATA_PULSE_SHIM_TIMEOUT_MS", environment, 1...600_000)
        {
            configuration.shimTimeout = .milliseconds(milliseconds)
        }
        if let count = try integer(
            shimConcurrency, "--shim-concurrency", "KATA_PULSE_SHIM_CONCURRENCY", environment, 1...1_024)
        {
            configuration.shimConcurrency = count
        }
        if let bytes = try integer(
            maxBodyBytes, "--max-body-bytes", "KATA_PULSE_MAX_BODY_BYTES", environment, 1_024...(1 << 30))
        {
            configuration.maxBodySize = bytes
        }
        if let count = try integer(maxSeries, "--max-series", "KATA_PULSE_MAX_SERIES", environment, 1...10_000_000) {
            configuration.limits.maxSeries = count
        }
        if let count = try integer(maxLabels, "--max-labels", "KATA_PULSE_MAX_LABELS", environment, 1...1_000) {
            configuration.limits.maxLabelsPerSeries = count
        }
        if let bytes = try integer(
            maxLabelValueBytes, "--max-label-value-bytes", "KATA_PULSE_MAX_LABEL_VALUE_BYTES", environment,
            1...(1 << 20))
        {
            configuration.limits.maxLabelValueLength = bytes
        }
        if let seconds = try integer(
            rescanIntervalSecs, "--rescan-interval-secs", "KATA_PULSE_RESCAN_INTERVAL", environment, 1...86_400)
        {
            configuration.rescanInterval = .seconds(seconds)
        }
        if let text = value(textfileDir, "KATA_PULSE_TEXTFILE_DIR", environment) {
            guard text.value.hasPrefix("/") else {
                throw UsageError(
                    description:
                        "invalid value '\(text.value)' for \(text.source("--textfile-dir")): expected an absolute path")
            }
            configuration.textfileDirectory = text.value
        }
        if let text = value(textfileName, "KATA_PULSE_TEXTFILE_NAME", environment) {
            guard text.value.hasSuffix(".prom"), !text.value.contains("/"), !text.value.hasPrefix(".") else {
                throw UsageError(
                    description:
                        "invalid value '\(text.value)' for \(text.source("--textfile-name")): expected a file name ending in .prom"
                )
            }
            configuration.textfileName = text.value
        }
        if let text = value(textfileExposition, "KATA_PULSE_TEXTFILE_EXPOSITION", environment) {
            guard let set = ExpositionSet(parsing: text.value) else {
                throw UsageError(
                    description:
                        "invalid value '\(text.value)' for \(text.source("--textfile-exposition")): expected kata, cadvisor or kata,cadvisor"
                )
            }
            configuration.textfileExposition = set
        }
        if textfileRemoveOnExit {
            configuration.textfileRemoveOnExit = true
        } else if let text = environment["KATA_PULSE_TEXTFILE_REMOVE_ON_EXIT"], !text.isEmpty {
            switch text.lowercased() {
            case "1", "true", "yes", "on": configuration.textfileRemoveOnExit = true
            case "0", "false", "no", "off": configuration.textfileRemoveOnExit = false
            default:
                throw UsageError(
                    description:
                        "invalid value '\(text)' for --textfile-remove-on-exit (from KATA_PULSE_TEXTFILE_REMOVE_ON_EXIT): expected true or false"
                )
            }
        }
        if let text = value(pushgatewayUrl, "KATA_PULSE_PUSHGATEWAY_URL", environment) {
            let job = value(pushgatewayJob, "KATA_PULSE_PUSHGATEWAY_JOB", environment)?.value ?? "kata-pulse"
            let instance =
                value(pushgatewayInstance, "KATA_PULSE_PUSHGATEWAY_INSTANCE", environment)?.value ?? Self.hostName()
            guard let target = PushgatewayTarget(url: text.value, job: job, instance: instance) else {
                throw UsageError(
                    description:
                        "invalid value '\(text.value)' for \(text.source("--pushgateway-url")): expected http://host[:port][/path] and a non-empty job"
                )
            }
            configuration.pushgateway = target
        }
        if let milliseconds = try integer(
            pushgatewayTimeoutMs, "--pushgateway-timeout-ms", "KATA_PULSE_PUSHGATEWAY_TIMEOUT_MS", environment,
            1...600_000)
        {
            configuration.pushgatewayTimeout = .milliseconds(milliseconds)
        }
        if let text = value(exposition, "KATA_PULSE_EXPOSITION", environment) {
            guard let set = ExpositionSet(parsing: text.value) else {
                throw UsageError(
                    description:
                        "invalid value '\(text.value)' for \(text.source("--exposition")): expected kata, cadvisor or kata,cadvisor"
                )
            }
            configuration.exposition = set
        }
        if let text = value(cadvisorVMContainer, "KATA_PULSE_CADVISOR_VM_CONTAINER", environment) {
            configuration.cadvisorVMContainer = text.value
        }
        if let text = value(cadvisorDiskExclude, "KATA_PULSE_CADVISOR_DISK_EXCLUDE", environment) {
            do {
                configuration.disks = try DiskFilter(excluding: text.value)
            } catch {
                throw UsageError(
                    description:
                        "invalid value '\(text.value)' for \(text.source("--cadvisor-disk-exclude")): not a regular expression: \(error)"
                )
            }
        }
        return configuration
    }

    /// A value and where it came from, for error messages.
    struct Sourced {
        var value: String
        var environmentName: String?

        func source(_ flag: String) -> String {
            environmentName.map { "\(flag) (from \($0))" } ?? flag
        }
    }

    private func value(_ flag: String?, _ name: String, _ environment: [String: String]) -> Sourced? {
        if let flag { return Sourced(value: flag, environmentName: nil) }
        if let value = environment[name], !value.isEmpty { return Sourced(value: value, environmentName: name) }
        return nil
    }

    private func integer(
        _ flag: String?, _ flagName: String, _ name: String, _ environment: [String: String], _ range: ClosedRange<Int>
    ) throws(UsageError) -> Int? {
        guard let text = value(flag, name, environment) else { return nil }
        guard let number = Int(text.value.trimmingCharacters(in: " ")), range.contains(number) else {
            throw UsageError(
                description:
                    "invalid value '\(text.value)' for \(text.source(flagName)): expected an integer from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return number
    }

    private func roots(_ paths: [String], source: String) throws(UsageError) -> [String] {
        let cleaned = paths.filter { !$0.isEmpty }
        guard !cleaned.isEmpty else { throw UsageError(description: "\(source) needs at least one directory") }
        for path in cleaned where !path.hasPrefix("/") {
            throw UsageError(description: "invalid value '\(path)' for \(source): sandbox roots must be absolute paths")
        }
        return cleaned.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func parseLevel(_ text: String) -> Logger.Level? {
        // RUST_LOG may read "target=level,…": the last bare level or the last directive's level wins.
        let directive =
            text.split(separator: ",").last.map { $0.split(separator: "=").last.map(String.init) ?? "" } ?? text
        switch directive.lowercased().trimmingCharacters(in: " ") {
        case "trace": return .trace
        case "debug": return .debug
        case "info": return .info
        case "warn", "warning": return .warning
        case "error": return .error
        default: return nil
        }
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}

/// The process environment as a dictionary.
func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let equals = text.firstIndex(of: "=") {
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        pointer += 1
    }
    return result
}
