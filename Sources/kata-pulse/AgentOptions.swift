import KataPulse
import KataPulseCRI

/// The agent's options: `kata-pulse`, `kata-pulse run` and `kata-pulse demo` take these.
enum AgentOptions {
    static let table = OptionTable<AgentSettings>([
        .value(
            "listen-address", short: "l", goStyle: true, environment: ["KATA_PULSE_LISTEN"], "ADDRESS",
            help: "Address to serve on: host:port, [v6]:port, :port (all interfaces) or unix:/path.",
            \.agent.server.listenAddress, .listenAddress),
        .value(
            "web.config.file", environment: ["KATA_PULSE_WEB_CONFIG_FILE"], "FILE",
            help:
                "exporter-toolkit web configuration (YAML: tls_server_config, basic_auth_users, "
                + "http_server_config.headers), re-read when it or a file it names changes.",
            \.agent.web.file, ValueParser.text.optional, defaultText: "off"),
        .value(
            "web.max-connections", environment: ["KATA_PULSE_WEB_MAX_CONNECTIONS"], "COUNT",
            help:
                "Most open API connections; past it the connection idle longest is closed to make room (capped so "
                + "that collection keeps the descriptors it needs).",
            \.agent.server.maxConnections, .integer(1...1_000_000)),
        .value(
            "web.read-header-timeout", environment: ["KATA_PULSE_WEB_READ_HEADER_TIMEOUT"], "DURATION",
            help: "Longest time to send a whole request head, from the connection or the request's first byte.",
            \.agent.server.readHeaderTimeout, .duration(maximum: .seconds(3600))),
        .value(
            "web.max-requests", environment: ["KATA_PULSE_WEB_MAX_REQUESTS"], "COUNT",
            help: "Most requests answered at once; more are answered 503.", \.agent.server.maxRequests,
            .integer(1...100_000)),
        CommandLineOption(
            long: "runtime-endpoint", short: "r", goStyle: true, environment: ["RUNTIME_ENDPOINT"],
            legacyEnvironment: [], valueName: "SOCKET",
            help: "CRI socket for pod metadata (/path, unix:///path, unix:/path) or 'none'.", repeatable: false,
            defaultText: { ValueParser.runtimeEndpoint.format($0.cri?.socketPath) },
            apply: { (settings: inout AgentSettings, values: [String]) throws(ValueError) in
                let path = try ValueParser.runtimeEndpoint.parse(values.last ?? "")
                settings.cri = CRIClient.Configuration.endpoint(settings.cri, path: path)
            }),
        .value(
            "cri-timeout-ms", environment: ["KATA_PULSE_CRI_TIMEOUT_MS"], "MS",
            help: "Deadline of one CRI call, connecting included, in milliseconds.", \.cri.timeoutOrDefault,
            .milliseconds(1...600_000)),
        .value(
            "cri-resync-secs", environment: ["KATA_PULSE_CRI_RESYNC_SECS"], "SECONDS",
            help: "Seconds between full CRI re-lists; also the longest retry backoff.",
            \.agent.metadata.resyncInterval, .seconds(1...86_400)),
        .value(
            "log-level", goStyle: true, environment: ["KATA_PULSE_LOG_LEVEL"], legacyEnvironment: ["RUST_LOG"],
            "LEVEL", help: "Log level: trace, debug, info, warn (warning), error, fatal or panic.",
            \.logging.level, .logLevel),
        .value(
            "log-format", environment: ["KATA_PULSE_LOG_FORMAT"], "FORMAT",
            help: "Log format: auto (journald when stderr is the journal, else logfmt), journald, logfmt, json.",
            \.logging.format, .logFormat),
        .value(
            "metrics-interval-secs", short: "m", environment: ["KATA_PULSE_METRICS_INTERVAL"], "SECONDS",
            help: "Seconds between collection rounds.", \.agent.collection.interval, .seconds(1...86_400)),
        .list(
            "sandbox-root", environment: ["KATA_PULSE_SANDBOX_ROOTS"], "DIR",
            help: "A directory holding one directory per sandbox; repeatable, searched in order (env: ':'-separated).",
            \.agent.discovery.roots, .absolutePath),
        .value(
            "shim-timeout-ms", environment: ["KATA_PULSE_SHIM_TIMEOUT_MS"], "MS",
            help: "Deadline of one shim request, from connecting to the last byte, in milliseconds.",
            \.agent.shim.timeout, .milliseconds(1...600_000)),
        .value(
            "shim-concurrency", environment: ["KATA_PULSE_SHIM_CONCURRENCY"], "COUNT",
            help: "Shims read at the same time.", \.agent.collection.concurrency, .integer(1...1_024)),
        .value(
            "max-body-bytes", environment: ["KATA_PULSE_MAX_BODY_BYTES"], "BYTES",
            help: "Largest shim body accepted, in bytes.", \.agent.shim.maxBodySize, .integer(1_024...(1 << 30))),
        .value(
            "max-series", environment: ["KATA_PULSE_MAX_SERIES"], "COUNT",
            help: "Most series one sandbox may report.", \.agent.collection.limits.maxSeries,
            .integer(1...10_000_000)),
        .value(
            "max-labels", environment: ["KATA_PULSE_MAX_LABELS"], "COUNT", help: "Most labels on one series.",
            \.agent.collection.limits.maxLabelsPerSeries, .integer(1...1_000)),
        .value(
            "max-label-value-bytes", environment: ["KATA_PULSE_MAX_LABEL_VALUE_BYTES"], "BYTES",
            help: "Longest label value, in bytes.", \.agent.collection.limits.maxLabelValueLength,
            .integer(1...(1 << 20))),
        .value(
            "rescan-interval-secs", environment: ["KATA_PULSE_RESCAN_INTERVAL"], "SECONDS",
            help: "Seconds between full rescans of the sandbox roots (inotify reports changes in between).",
            \.agent.discovery.rescanInterval, .seconds(1...86_400)),
        .value(
            "exposition", environment: ["KATA_PULSE_EXPOSITION"], "SET",
            help: "Series to publish: kata (kata-monitor's), cadvisor (container_* for Kata pods) or kata,cadvisor.",
            \.agent.collection.exposition, .exposition),
        .value(
            "skip-metrics-hypervisors", environment: ["KATA_PULSE_SKIP_METRICS_HYPERVISORS"], "TYPES",
            help:
                "runtime-rs hypervisor types whose shims are never asked for metrics, because they abort on it "
                + "(kata-containers#13708); comma-separated, empty to ask every shim.",
            \.agent.collection.runtimeRS.skippedHypervisors, .hypervisorTypes),
        .value(
            "cadvisor-vm-container", environment: ["KATA_PULSE_CADVISOR_VM_CONTAINER"], "NAME",
            help: "Label the VM as a pseudo-container of this name in cAdvisor series (container and image labels).",
            \.agent.collection.cadvisor.vmContainer, ValueParser.text.optional,
            defaultText: "none (the shape of a pod-level cgroup)"),
        .value(
            "cadvisor-containers", environment: ["KATA_PULSE_CADVISOR_CONTAINERS"], "BOOL",
            help:
                "With CRI, publish each container's cAdvisor rows (container and image set) from ListContainerStats: "
                + "the guest's cgroups, read by the runtime through the shim.",
            \.agent.collection.cadvisor.containers, .boolean),
        .value(
            "cadvisor-disk-exclude", environment: ["KATA_PULSE_CADVISOR_DISK_EXCLUDE"], "REGEX",
            help: "Guest disks left out of container_fs_* (a regular expression over the whole disk name).",
            \.agent.collection.cadvisor.disks, .diskFilter,
            defaultText: "partitions and loop, ram, fd, sr, zram, nbd and dm devices"),
        .value(
            "textfile-dir", environment: ["KATA_PULSE_TEXTFILE_DIR"], "DIR",
            help: "After every round, write a snapshot into this node_exporter textfile directory.",
            \.agent.textfile.directory, ValueParser.absolutePath.optional, defaultText: "off"),
        .value(
            "textfile-name", environment: ["KATA_PULSE_TEXTFILE_NAME"], "NAME",
            help: "The textfile's name; must end in .prom.", \.agent.textfile.name, .textfileName),
        .value(
            "textfile-exposition", environment: ["KATA_PULSE_TEXTFILE_EXPOSITION"], "SET",
            help: "Series in the textfile: kata, cadvisor or kata,cadvisor.", \.agent.textfile.exposition,
            ValueParser.exposition.optional, defaultText: "as --exposition"),
        .toggle(
            "textfile-remove-on-exit", environment: ["KATA_PULSE_TEXTFILE_REMOVE_ON_EXIT"],
            help: "Remove the textfile on a clean shutdown (by default it stays; node_exporter reports its age).",
            \.agent.textfile.removeOnExit),
        .value(
            "pushgateway-url", environment: ["KATA_PULSE_PUSHGATEWAY_URL"], "URL",
            help: "After every round, push the snapshot to this Pushgateway: http://host[:port][/path].",
            \.agent.pushgateway.url, ValueParser.pushgatewayURL.optional, defaultText: "off"),
        .value(
            "pushgateway-job", environment: ["KATA_PULSE_PUSHGATEWAY_JOB"], "JOB", help: "The push's job label.",
            \.agent.pushgateway.job, .text),
        .value(
            "pushgateway-instance", environment: ["KATA_PULSE_PUSHGATEWAY_INSTANCE"], "INSTANCE",
            help: "The push's instance label (may be empty).", \.agent.pushgateway.instance, .anyText,
            defaultText: "the host name"),
        .value(
            "pushgateway-timeout-ms", environment: ["KATA_PULSE_PUSHGATEWAY_TIMEOUT_MS"], "MS",
            help: "Deadline of one push, in milliseconds.", \.agent.pushgateway.timeout,
            .milliseconds(1...600_000)),
        .list(
            "remote-write-url", environment: ["KATA_PULSE_REMOTE_WRITE_URLS"], separator: " ", "URL",
            help:
                "After every round, send the new samples with Prometheus remote write to this receiver: "
                + "http[s]://host[:port]/path; repeatable, each receiver with its own queue (env: space-separated).",
            \.agent.remoteWrite.urls, .remoteWriteURL, defaultText: "off"),
        CommandLineOption(
            long: "remote-write-external-label", short: nil, goStyle: false,
            environment: ["KATA_PULSE_REMOTE_WRITE_EXTERNAL_LABELS"], legacyEnvironment: [], valueName: "NAME=VALUE",
            help:
                "A label added to every series sent that lacks it; repeatable, over the defaults (NAME= removes one; "
                + "env: comma-separated).",
            repeatable: true, defaultText: { _ in "instance=<the host name>,job=kata-pulse" },
            apply: { (settings: inout AgentSettings, values: [String]) throws(ValueError) in
                var labels = settings.agent.remoteWrite.externalLabels
                for text in values {
                    let label = try ValueParser.externalLabel.parse(text)
                    labels.removeAll { $0.name == label.name }
                    if !label.value.isEmpty { labels.append(label) }
                }
                settings.agent.remoteWrite.externalLabels = labels.sorted { $0.name < $1.name }
            }, environmentSeparator: ","),
        .value(
            "remote-write-exposition", environment: ["KATA_PULSE_REMOTE_WRITE_EXPOSITION"], "SET",
            help: "Series sent: kata, cadvisor or kata,cadvisor.", \.agent.remoteWrite.exposition,
            ValueParser.exposition.optional, defaultText: "as --exposition"),
        .value(
            "remote-write-queue-dir", environment: ["KATA_PULSE_REMOTE_WRITE_QUEUE_DIR"], "DIR",
            help: "Where each receiver's durable queue lives (a folder per receiver).",
            \.agent.remoteWrite.queueDirectory, .absolutePath),
        .value(
            "remote-write-queue-max-bytes", environment: ["KATA_PULSE_REMOTE_WRITE_QUEUE_MAX_BYTES"], "BYTES",
            help: "Most bytes one receiver's queue holds; past it the oldest requests are dropped (counted).",
            \.agent.remoteWrite.maxQueueBytes, .integer(64 * 1024...(1 << 40))),
        .value(
            "remote-write-queue-max-age", environment: ["KATA_PULSE_REMOTE_WRITE_QUEUE_MAX_AGE"], "DURATION",
            help: "Requests queued longer than this are dropped unsent (counted).", \.agent.remoteWrite.maxQueueAge,
            .duration(maximum: .seconds(30 * 86_400))),
        .value(
            "remote-write-max-samples-per-request", environment: ["KATA_PULSE_REMOTE_WRITE_MAX_SAMPLES_PER_REQUEST"],
            "COUNT", help: "Most samples in one write request.", \.agent.remoteWrite.maxSamplesPerRequest,
            .integer(1...1_000_000)),
        .value(
            "remote-write-timeout-ms", environment: ["KATA_PULSE_REMOTE_WRITE_TIMEOUT_MS"], "MS",
            help: "Deadline of one write request, in milliseconds.", \.agent.remoteWrite.timeout,
            .milliseconds(1...600_000)),
        .value(
            "remote-write-basic-auth-username", environment: ["KATA_PULSE_REMOTE_WRITE_BASIC_AUTH_USERNAME"], "USER",
            help: "HTTP basic authentication to the receivers, with --remote-write-basic-auth-password-file.",
            \.agent.remoteWrite.basicAuthUsername, ValueParser.text.optional, defaultText: "none"),
        .value(
            "remote-write-basic-auth-password-file", environment: ["KATA_PULSE_REMOTE_WRITE_BASIC_AUTH_PASSWORD_FILE"],
            "FILE", help: "The file holding the basic-authentication password (read at every request).",
            \.agent.remoteWrite.basicAuthPasswordFile, ValueParser.absolutePath.optional, defaultText: "none"),
        .value(
            "remote-write-bearer-token-file", environment: ["KATA_PULSE_REMOTE_WRITE_BEARER_TOKEN_FILE"], "FILE",
            help: "A file holding a bearer token for the receivers (read at every request).",
            \.agent.remoteWrite.bearerTokenFile, ValueParser.absolutePath.optional, defaultText: "none"),
        .value(
            "remote-write-tls-ca-file", environment: ["KATA_PULSE_REMOTE_WRITE_TLS_CA_FILE"], "FILE",
            help: "The CAs (PEM) that sign the https:// receivers' certificates, instead of the system's.",
            \.agent.remoteWrite.tls.caFile, ValueParser.absolutePath.optional, defaultText: "the system's"),
        .value(
            "remote-write-tls-cert-file", environment: ["KATA_PULSE_REMOTE_WRITE_TLS_CERT_FILE"], "FILE",
            help:
                "The agent's client certificate (PEM) for https:// receivers, with --remote-write-tls-key-file "
                + "(both read again before each request, so a renewal needs no restart).",
            \.agent.remoteWrite.tls.certFile, ValueParser.absolutePath.optional, defaultText: "none"),
        .value(
            "remote-write-tls-key-file", environment: ["KATA_PULSE_REMOTE_WRITE_TLS_KEY_FILE"], "FILE",
            help: "The client certificate's private key (PEM).", \.agent.remoteWrite.tls.keyFile,
            ValueParser.absolutePath.optional, defaultText: "none"),
        .value(
            "remote-write-tls-server-name", environment: ["KATA_PULSE_REMOTE_WRITE_TLS_SERVER_NAME"], "NAME",
            help: "The name the receivers' certificates must carry (and SNI), instead of the URL's host.",
            \.agent.remoteWrite.tls.serverName, ValueParser.text.optional, defaultText: "the URL's host"),
        .toggle(
            "remote-write-tls-insecure-skip-verify", environment: ["KATA_PULSE_REMOTE_WRITE_TLS_INSECURE_SKIP_VERIFY"],
            help: "Accept any certificate from the https:// receivers (encrypted, not authenticated: for tests).",
            \.agent.remoteWrite.tls.insecureSkipVerify),
    ])
}

extension Optional where Wrapped == CRIClient.Configuration {
    /// The CRI deadline; setting it while CRI is off changes nothing, and the default shows CRIClient's own.
    var timeoutOrDefault: Duration {
        get { self?.timeout ?? CRIClient.Configuration.defaultTimeout }
        set { self?.timeout = newValue }
    }
}
