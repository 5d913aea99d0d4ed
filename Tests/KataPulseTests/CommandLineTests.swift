import KataPulseCRI
import Logging
import NIOCore
import Testing

@testable import KataPulse
@testable import kata_pulse

#if canImport(Glibc)
    import Glibc
#endif

/// A good and a bad value for one option (nil where any text is a value), and how to tell the good one
/// took effect.
private struct OptionCase: Sendable {
    var good: String
    var bad: String?
    var applied: @Sendable (AgentSettings) -> Bool
}

/// One case per agent option; a new option without a case fails `everyOptionHasACase`.
private let cases: [String: OptionCase] = [
    "listen-address": .init(good: "[::1]:9000", bad: "nonsense") {
        $0.agent.server.listenAddress == .tcp(host: "::1", port: 9000)
    },
    "runtime-endpoint": .init(good: "unix:///run/crio/crio.sock", bad: "tcp://h:1") {
        $0.cri?.socketPath == "/run/crio/crio.sock"
    },
    "web.config.file": .init(good: "/etc/kata-pulse/web.yml", bad: "") {
        $0.agent.web.file == "/etc/kata-pulse/web.yml"
    },
    "web.max-connections": .init(good: "64", bad: "0") { $0.agent.server.maxConnections == 64 },
    "web.read-header-timeout": .init(good: "1m30s", bad: "10") { $0.agent.server.readHeaderTimeout == .seconds(90) },
    "web.max-requests": .init(good: "3", bad: "x") { $0.agent.server.maxRequests == 3 },
    "cri-timeout-ms": .init(good: "250", bad: "0") { $0.cri?.timeout == .milliseconds(250) },
    "cri-resync-secs": .init(good: "7", bad: "x") { $0.agent.metadata.resyncInterval == .seconds(7) },
    "log-level": .init(good: "warning", bad: "loud") { $0.logging.level == .warning },
    "log-format": .init(good: "json", bad: "xml") { $0.logging.format == .json },
    "metrics-interval-secs": .init(good: "15", bad: "-1") { $0.agent.collection.interval == .seconds(15) },
    "sandbox-root": .init(good: "/srv/sbs/", bad: "relative") { $0.agent.discovery.roots == ["/srv/sbs"] },
    "shim-timeout-ms": .init(good: "1500", bad: "600001") { $0.agent.shim.timeout == .milliseconds(1500) },
    "shim-concurrency": .init(good: "4", bad: "0") { $0.agent.collection.concurrency == 4 },
    "max-body-bytes": .init(good: "2048", bad: "10") { $0.agent.shim.maxBodySize == 2048 },
    "max-series": .init(good: "100", bad: "many") { $0.agent.collection.limits.maxSeries == 100 },
    "max-labels": .init(good: "8", bad: "1001") { $0.agent.collection.limits.maxLabelsPerSeries == 8 },
    "max-label-value-bytes": .init(good: "64", bad: "0") { $0.agent.collection.limits.maxLabelValueLength == 64 },
    "rescan-interval-secs": .init(good: "5", bad: "5s") { $0.agent.discovery.rescanInterval == .seconds(5) },
    "exposition": .init(good: "cadvisor", bad: "prometheus") { $0.agent.collection.exposition == .cadvisor },
    "skip-metrics-hypervisors": .init(good: "qemu, clh", bad: "QEMU") {
        $0.agent.collection.runtimeRS.skippedHypervisors == ["qemu", "clh"]
    },
    "cadvisor-containers": .init(good: "false", bad: "maybe") { !$0.agent.collection.cadvisor.containers },
    "cadvisor-vm-container": .init(good: "vm", bad: "") { $0.agent.collection.cadvisor.vmContainer == "vm" },
    "cadvisor-disk-exclude": .init(good: "vd[b-z]", bad: "(") {
        $0.agent.collection.cadvisor.disks.pattern == "vd[b-z]"
    },
    "textfile-dir": .init(good: "/var/lib/tf", bad: "tf") { $0.agent.textfile.directory == "/var/lib/tf" },
    "textfile-name": .init(good: "k.prom", bad: "k.txt") { $0.agent.textfile.name == "k.prom" },
    "textfile-exposition": .init(good: "kata", bad: "both") { $0.agent.textfile.exposition == .kata },
    "textfile-remove-on-exit": .init(good: "true", bad: "maybe") { $0.agent.textfile.removeOnExit },
    "pushgateway-url": .init(good: "http://gw:9091/p", bad: "https://gw") {
        $0.agent.pushgateway.url == PushgatewayURL(parsing: "http://gw:9091/p")
    },
    "pushgateway-job": .init(good: "kp", bad: "") { $0.agent.pushgateway.job == "kp" },
    "pushgateway-instance": .init(good: "node-7", bad: nil) { $0.agent.pushgateway.instance == "node-7" },
    "pushgateway-timeout-ms": .init(good: "900", bad: "soon") { $0.agent.pushgateway.timeout == .milliseconds(900) },
    "remote-write-url": .init(good: "http://vm:8428/api/v1/write", bad: "ftp://vm") {
        $0.agent.remoteWrite.urls == [RemoteWriteURL(parsing: "http://vm:8428/api/v1/write")!]
    },
    "remote-write-external-label": .init(good: "cluster=eu-1", bad: "2x=y") {
        $0.agent.remoteWrite.externalLabels.contains(Label("cluster", "eu-1"))
            && $0.agent.remoteWrite.externalLabels.contains(Label("job", "kata-pulse"))
    },
    "remote-write-exposition": .init(good: "cadvisor", bad: "all") { $0.agent.remoteWrite.exposition == .cadvisor },
    "remote-write-queue-dir": .init(good: "/srv/queue/", bad: "queue") {
        $0.agent.remoteWrite.queueDirectory == "/srv/queue"
    },
    "remote-write-queue-max-bytes": .init(good: "1048576", bad: "1k") {
        $0.agent.remoteWrite.maxQueueBytes == 1_048_576
    },
    "remote-write-queue-max-age": .init(good: "30m", bad: "forever") {
        $0.agent.remoteWrite.maxQueueAge == .seconds(1800)
    },
    "remote-write-max-samples-per-request": .init(good: "100", bad: "0") {
        $0.agent.remoteWrite.maxSamplesPerRequest == 100
    },
    "remote-write-timeout-ms": .init(good: "2500", bad: "-1") { $0.agent.remoteWrite.timeout == .milliseconds(2500) },
    "remote-write-basic-auth-username": .init(good: "node", bad: "") {
        $0.agent.remoteWrite.basicAuthUsername == "node"
    },
    "remote-write-basic-auth-password-file": .init(good: "/etc/kp/password", bad: "password") {
        $0.agent.remoteWrite.basicAuthPasswordFile == "/etc/kp/password"
    },
    "remote-write-bearer-token-file": .init(good: "/etc/kp/token", bad: "token") {
        $0.agent.remoteWrite.bearerTokenFile == "/etc/kp/token"
    },
    "remote-write-tls-ca-file": .init(good: "/etc/kp/ca.pem", bad: "ca.pem") {
        $0.agent.remoteWrite.tls.caFile == "/etc/kp/ca.pem"
    },
    "remote-write-tls-cert-file": .init(good: "/etc/kp/node.pem", bad: "node.pem") {
        $0.agent.remoteWrite.tls.certFile == "/etc/kp/node.pem"
    },
    "remote-write-tls-key-file": .init(good: "/etc/kp/node.key", bad: "node.key") {
        $0.agent.remoteWrite.tls.keyFile == "/etc/kp/node.key"
    },
    "remote-write-tls-server-name": .init(good: "mimir.example.net", bad: "") {
        $0.agent.remoteWrite.tls.serverName == "mimir.example.net"
    },
    "remote-write-tls-insecure-skip-verify": .init(good: "true", bad: "maybe") {
        $0.agent.remoteWrite.tls.insecureSkipVerify
    },
]

private let options = AgentOptions.table.options

private func resolve(_ arguments: [String], _ environment: [String: String] = [:]) throws(UsageError) -> AgentSettings {
    try AgentOptions.table.resolve(arguments, environment: environment, defaults: AgentSettings())
}

private func usageError(_ arguments: [String], _ environment: [String: String] = [:]) -> String? {
    do {
        _ = try resolve(arguments, environment)
        return nil
    } catch {
        return error.description
    }
}

@Suite struct CommandLineTests {
    @Test func everyOptionHasACaseAndAVariable() {
        #expect(Set(options.map(\.long)) == Set(cases.keys))
        for option in options {
            #expect(!option.environment.isEmpty, "--\(option.long) has no environment variable")
            #expect(!option.help.isEmpty && !option.defaultText(AgentSettings()).isEmpty, "--\(option.long)")
        }
        let names = options.flatMap { [$0.long] + $0.environment }
        #expect(Set(names).count == names.count, "a flag or variable is declared twice")
    }

    @Test(arguments: options.map(\.long))
    func goodValuesApplyFromTheFlagAndTheVariable(long: String) throws {
        let option = try #require(options.first { $0.long == long })
        let test = try #require(cases[long])
        #expect(!test.applied(try resolve([])), "the default already looks like the good value")
        // A switch takes no separate value: `--name` alone turns it on.
        let separate = option.valueName == nil ? ["--\(long)"] : ["--\(long)", test.good]
        #expect(test.applied(try resolve(separate)))
        #expect(test.applied(try resolve(["--\(long)=\(test.good)"])))
        #expect(test.applied(try resolve([], [option.environment[0]: test.good])))
        // A flag wins over the variable.
        #expect(test.applied(try resolve(separate, [option.environment[0]: test.bad ?? "x"])))
    }

    @Test(arguments: options.map(\.long))
    func badValuesNameTheFlagAndTheVariable(long: String) throws {
        let option = try #require(options.first { $0.long == long })
        guard let bad = try #require(cases[long]).bad else { return }
        let fromFlag = try #require(usageError(["--\(long)=\(bad)"]))
        #expect(fromFlag.contains("--\(long)") && fromFlag.contains("'\(bad)'"), "\(fromFlag)")
        // An empty variable counts as unset.
        if !bad.isEmpty {
            let variable = option.environment[0]
            let fromVariable = try #require(usageError([], [variable: bad]))
            #expect(fromVariable.contains("--\(long) (from \(variable))"), "\(fromVariable)")
        }
    }

    @Test(arguments: options.map(\.long))
    func documentedDefaultsAreTheDefaults(long: String) throws {
        let option = try #require(options.first { $0.long == long })
        let text = option.defaultText(AgentSettings())
        // A default spelled as a value parses back to itself; phrases (off, the host name, …) are not values.
        guard option.valueName != nil, (try? resolve(["--\(long)", text])) != nil else { return }
        #expect(option.defaultText(try resolve(["--\(long)", text])) == text)
    }

    @Test func defaultsAreTheServicesOwn() throws {
        let settings = try resolve([])
        #expect(settings.agent.server.listenAddress == .tcp(host: "127.0.0.1", port: 8090))
        #expect(settings.cri?.socketPath == "/run/containerd/containerd.sock" && settings.cri?.timeout == .seconds(2))
        #expect(settings.agent.discovery.roots == ["/run/vc/sbs", "/run/kata"])
        #expect(settings.agent.collection.interval == .seconds(60) && settings.logging.level == .info)
        #expect(settings.agent.textfile.directory == nil && settings.agent.pushgateway.url == nil)
    }

    @Test func repeatedRootsAndTheirVariable() throws {
        #expect(try resolve(["--sandbox-root", "/a", "--sandbox-root=/b/"]).agent.discovery.roots == ["/a", "/b"])
        #expect(try resolve([], ["KATA_PULSE_SANDBOX_ROOTS": "/x:/y"]).agent.discovery.roots == ["/x", "/y"])
        // A flag's value is one directory, colons and all; the variable's items are split at ':'.
        #expect(try resolve(["--sandbox-root", "/run/a:b"]).agent.discovery.roots == ["/run/a:b"])
        #expect(usageError([], ["KATA_PULSE_SANDBOX_ROOTS": "/x:y"])?.contains("'/x', 'y'") == true)
        #expect(try resolve(["-m", "5", "-l", ":9"]).agent.collection.interval == .seconds(5))
    }

    @Test func criOffKeepsItOffAndNoneIsAccepted() throws {
        #expect(try resolve(["--runtime-endpoint", "none", "--cri-timeout-ms", "5"]).cri == nil)
        #expect(try resolve([], ["RUNTIME_ENDPOINT": "none"]).cri == nil)
        let long = "/" + String(repeating: "s", count: 103)
        #expect(usageError(["-r", long])?.contains("at most 103 bytes") == true)
        #expect(try resolve(["-r", String(long.dropLast())]).cri?.socketPath.utf8.count == 103)
    }

    @Test func legacyRustLogIsReadAndIgnoredWhenUnreadable() throws {
        #expect(try resolve([], ["RUST_LOG": "kata=debug,warn"]).logging.level == .warning)
        #expect(try resolve([], ["RUST_LOG": "nonsense"]).logging.level == .info)
        #expect(try resolve([], ["RUST_LOG": "debug", "KATA_PULSE_LOG_LEVEL": "error"]).logging.level == .error)
    }

    @Test func unknownAndMalformedArgumentsAreUsageErrors() {
        #expect(usageError(["--no-such-flag"])?.contains("'--no-such-flag'") == true)
        #expect(usageError(["-metrics-interval-secs=5"])?.contains("'-metrics-interval-secs'") == true)
        #expect(usageError(["-x"])?.contains("'-x'") == true)
        #expect(usageError(["--listen-address"])?.contains("missing value for --listen-address") == true)
        #expect(usageError(["stray"])?.contains("unexpected argument 'stray'") == true)
    }

    /// kata-deploy's chart and kata's kata-monitor DaemonSet spell the flags as Go's flag package allows.
    @Test(arguments: [
        [
            "-listen-address=0.0.0.0:8090", "-log-level=debug",
            "-runtime-endpoint=unix:///run/containerd/containerd.sock",
        ],
        [
            "--listen-address=0.0.0.0:8090", "--log-level=debug",
            "--runtime-endpoint=unix:///run/containerd/containerd.sock",
        ],
        [
            "-listen-address", "0.0.0.0:8090", "-log-level", "debug", "-runtime-endpoint",
            "/run/containerd/containerd.sock",
        ],
        [
            "--listen-address", "0.0.0.0:8090", "--log-level", "debug", "--runtime-endpoint",
            "unix:/run/containerd/containerd.sock",
        ],
    ])
    func kataMonitorSpellings(arguments: [String]) throws {
        let settings = try resolve(arguments)
        #expect(settings.agent.server.listenAddress == .tcp(host: "0.0.0.0", port: 8090))
        #expect(settings.logging.level == .debug)
        #expect(settings.cri?.socketPath == "/run/containerd/containerd.sock")
    }

    @Test func kataMonitorLogLevels() throws {
        let levels: [String: Logger.Level] = [
            "trace": .trace, "debug": .debug, "info": .info, "warn": .warning, "warning": .warning,
            "error": .error, "fatal": .critical, "panic": .critical,
        ]
        for (text, level) in levels {
            #expect(try resolve(["-log-level=\(text)"]).logging.level == level, "\(text)")
        }
    }

    @Test func subcommandsShareTheAgentsOptions() throws {
        guard case .agent(let plain) = try Command.parse(["-m", "9"], environment: [:]),
            case .agent(let run) = try Command.parse(["run", "-m", "9"], environment: [:]),
            case .demo(let demo) = try Command.parse(["demo", "--sandboxes", "2", "-m", "9"], environment: [:])
        else { throw TestFailure("wrong commands") }
        #expect(plain.agent.collection.interval == .seconds(9) && run.agent.collection.interval == .seconds(9))
        #expect(demo.agent.agent.collection.interval == .seconds(9) && demo.simulation.sandboxes == 2)
        #expect(try DemoSettings.table.resolve([], environment: [:], defaults: DemoSettings()).agent.cri == nil)
        guard
            case .simulate(let simulation) = try Command.parse(
                [
                    "simulate", "--root", "/tmp/r/", "--flavor", "mixed", "--faults", "hang:2", "--hypervisors",
                    "qemu,clh",
                ],
                environment: [:])
        else { throw TestFailure("not simulate") }
        #expect(simulation.root == "/tmp/r" && simulation.flavors == [.go, .rust] && simulation.faults.count == 1)
        #expect(simulation.hypervisors == ["qemu", "clh"])
        #expect(throws: UsageError.self) {
            try Command.parse(["simulate", "--root", "/tmp/r", "--hypervisors", "qemu,,Bad"], environment: [:])
        }
        #expect(throws: UsageError.self) { try Command.parse(["simulate"], environment: [:]) }
        guard case .text(let help) = try Command.parse(["--help"], environment: [:]) else {
            throw TestFailure("no help")
        }
        for option in options { #expect(help.contains("--\(option.long)") && help.contains(option.environment[0])) }
        // A value that reads like help or version is a value.
        guard
            case .agent(let valued) = try Command.parse(
                ["--cadvisor-vm-container", "version", "--pushgateway-instance", "-h"], environment: [:])
        else { throw TestFailure("a value was taken for help or version") }
        #expect(valued.agent.collection.cadvisor.vmContainer == "version" && valued.agent.pushgateway.instance == "-h")
        guard case .text(let runHelp) = try Command.parse(["run", "-m", "5", "-help"], environment: [:]),
            case .text(let version) = try Command.parse(["-version"], environment: [:])
        else { throw TestFailure("no help or version") }
        #expect(runHelp.hasPrefix("kata-pulse ") && version == KataPulseVersion.string)
    }

    @Test func remoteWriteSettingsThatDoNotGoTogetherAreRefusedNamingTheirFlags() throws {
        func problem(_ arguments: [String]) -> String? {
            do {
                _ = try Command.parse(arguments, environment: [:])
                return nil
            } catch {
                return error.description
            }
        }
        let https = ["--remote-write-url", "https://mimir:443/api/v1/push"]
        #expect(
            problem(https + ["--remote-write-tls-cert-file", "/c.pem", "--remote-write-tls-key-file", "/c.key"]) == nil)
        #expect(
            problem(https + ["--remote-write-tls-cert-file", "/c.pem"])?.contains("--remote-write-tls-key-file") == true
        )
        #expect(
            problem(https + ["--remote-write-tls-key-file", "/c.key"])?.contains("--remote-write-tls-cert-file") == true
        )
        // TLS settings with only http:// receivers: most likely a mistyped URL, which must not go out in the clear.
        let plain = ["--remote-write-url", "http://mimir/api/v1/push", "--remote-write-tls-ca-file", "/ca.pem"]
        #expect(problem(plain)?.contains("no --remote-write-url is https://") == true)
        #expect(
            problem(https + ["--remote-write-bearer-token-file", "/t", "--remote-write-basic-auth-username", "u"])
                != nil)
    }
}

/// The built binary: exit codes and the kata-monitor command line, as a user runs them.
@Suite struct CommandLineProcessTests {
    @Test(arguments: options.map(\.long))
    func aBadValueExitsTwoNamingTheFlag(long: String) async throws {
        guard let bad = try #require(cases[long]).bad else { return }
        let process = try AgentProcess(["--\(long)=\(bad)"])
        #expect(await process.exitStatus() == 2)
        #expect(process.stderr.contains("--\(long)"), "\(process.stderr)")
    }

    @Test func anUnusableTLSFileStopsTheAgentAtStartNamingTheFlag() async throws {
        let tmp = TemporaryDirectory()
        WebAccessTests.write("not a certificate\n", to: tmp.path + "/ca.pem")
        let common = [
            "--runtime-endpoint", "none", "--listen-address", "127.0.0.1:0", "--remote-write-queue-dir",
            tmp.subdirectory("queue"), "--remote-write-url", "https://127.0.0.1:1/api/v1/write",
        ]
        let junk = try AgentProcess(common + ["--remote-write-tls-ca-file", tmp.path + "/ca.pem"])
        #expect(await junk.exitStatus() == 1)
        #expect(
            junk.stderr.contains("--remote-write-tls-ca-file \(tmp.path)/ca.pem: holds no PEM certificate"),
            "\(junk.stderr)")
        let missing = try AgentProcess(
            common + [
                "--remote-write-tls-cert-file", tmp.path + "/none.pem", "--remote-write-tls-key-file",
                tmp.path + "/none.key",
            ])
        #expect(await missing.exitStatus() == 1)
        #expect(
            missing.stderr.contains("--remote-write-tls-cert-file \(tmp.path)/none.pem: No such file"),
            "\(missing.stderr)")
    }

    @Test func anUnknownSingleDashFlagExitsTwo() async throws {
        let process = try AgentProcess(["-metrics-interval-secs=5"])
        #expect(await process.exitStatus() == 2)
        #expect(process.stderr.contains("unknown option '-metrics-interval-secs'"), "\(process.stderr)")
    }

    /// The flags of kata's kata-monitor DaemonSet, each manifest spelling, start the agent.
    @Test(arguments: [
        ["-listen-address=127.0.0.1:PORT", "-log-level=debug", "-runtime-endpoint=unix:///run/kp-absent/c.sock"],
        ["--listen-address=127.0.0.1:PORT", "--log-level=debug", "--runtime-endpoint=unix:///run/kp-absent/c.sock"],
        ["-listen-address", "127.0.0.1:PORT", "-log-level", "debug", "-runtime-endpoint", "/run/kp-absent/c.sock"],
    ])
    func kataMonitorManifestFlagsStartTheAgent(arguments: [String]) async throws {
        let tmp = TemporaryDirectory()
        let port = try freePort()
        let process = try AgentProcess(
            arguments.map { $0.replacing("PORT", with: String(port)) },
            environment: ["KATA_PULSE_SANDBOX_ROOTS": tmp.path])
        let healthy = await eventually(timeout: .seconds(20)) {
            let response = try? await HTTPExchange.fetch(
                try SocketAddress(ipAddress: "127.0.0.1", port: port), path: "/healthz", host: "127.0.0.1",
                timeout: .seconds(2), maxBodySize: 1024, group: testGroup)
            return response?.status == 200
        }
        #expect(healthy, "\(process.stderr)")
        #expect(process.stderr.contains("level=debug"), "debug logging is on: \(process.stderr)")
        process.terminate()
        #expect(await process.exitStatus() == 0)
    }
}

/// A loopback port that was free a moment ago.
func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
        }
    }
    guard bound else { throw TestFailure("cannot bind a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
