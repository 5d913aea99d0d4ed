import Testing

@testable import KataPulse
@testable import KataPulseTLS

#if canImport(Glibc)
    import Glibc
#endif

/// The API behind a web configuration, as curl (OpenSSL) meets it: TLS, client certificates, basic
/// authentication, headers, and changes to the file while the agent runs.
@Suite struct WebAccessTests {
    private struct Setup {
        let pki: TestPKI
        let file: String
        let agent: RunningAgent
        let access: WebAccess

        func url(_ path: String, scheme: String = "https") -> String { "\(scheme)://127.0.0.1:\(agent.port)\(path)" }

        /// curl's exit status and output (`-w` status code, headers with `-D -`).
        func curl(_ arguments: [String]) async throws -> (status: CInt?, output: String) {
            try await AgentProcess.run(
                "/usr/bin/curl", ["--silent", "--max-time", "10", "--cacert", pki.path("ca.pem")] + arguments)
        }

        /// The HTTP status curl saw, or `refused (curl's exit status: its message)` when no response came.
        func status(_ path: String, _ arguments: [String] = []) async throws -> String {
            let result = try await curl(
                ["--show-error", "--output", "/dev/null", "--write-out", "%{http_code}"] + arguments + [url(path)])
            return result.status == 0 ? result.output : "refused (\(result.status ?? -1): \(result.output))"
        }

        func write(_ text: String) {
            WebAccessTests.write(text, to: file)
        }
    }

    static func write(_ text: String, to path: String) {
        // Replaced, not rewritten in place, as editors and Kubernetes do: a reader never sees half a file.
        let temporary = path + ".new"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = Array(text.utf8).withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        rename(temporary, path)
    }

    private func start(_ text: String) async throws -> Setup {
        let pki = try await TestPKI.make()
        let file = pki.path("web.yml")
        Self.write(text, to: file)
        var configuration = WebAccess.Configuration()
        configuration.file = file
        configuration.checkInterval = .milliseconds(100)
        let access = try WebAccess(configuration: configuration, tlsProvider: NIOSSLServerProvider())
        let tmp = TemporaryDirectory()
        let agent = try await RunningAgent.start(roots: [tmp.subdirectory("sbs")], access: access)
        return Setup(pki: pki, file: file, agent: agent, access: access)
    }

    private static func tlsAndUser(hash: String = TestPasswords.secret) -> String {
        """
        tls_server_config:
          cert_file: server.pem
          key_file: server.key
        basic_auth_users:
          prometheus: \(hash)
        http_server_config:
          headers:
            X-Content-Type-Options: nosniff
        """
    }

    @Test func overTLSOnlyTheRightCredentialsGetMetrics() async throws {
        let setup = try await start(Self.tlsAndUser())
        defer { Task { await setup.agent.stop() } }
        #expect(try await setup.status("/metrics", ["--user", "prometheus:secret"]) == "200")
        // gzip over TLS is written from the buffer (a file cannot go through TLS) and inflates to the metrics.
        let compressed = try await setup.curl(["--compressed", "--user", "prometheus:secret", setup.url("/metrics")])
        #expect(compressed.status == 0 && compressed.output.contains("kata_monitor_running_shim_count 0"))
        #expect(try await setup.status("/metrics", ["--user", "prometheus:wrong"]) == "401")
        #expect(try await setup.status("/metrics", ["--user", "nobody:secret"]) == "401")
        #expect(try await setup.status("/sandboxes") == "401")
        let refused = try await setup.curl(["--dump-header", "-", "--output", "/dev/null", setup.url("/metrics")])
        #expect(refused.output.lowercased().contains("www-authenticate: basic"), "\(refused.output)")
        #expect(refused.output.lowercased().contains("x-content-type-options: nosniff"), "\(refused.output)")
        // Kubernetes probes send no credentials.
        #expect(try await setup.status("/healthz") == "200")
        // A scraper with the wrong scheme is told why, as Go's servers tell it.
        let plain = try await setup.curl([setup.url("/metrics", scheme: "http")])
        #expect(plain.output.contains("Client sent an HTTP request to an HTTPS server."), "\(plain.output)")
        #expect(
            await setup.agent.waitForSnapshot { snapshot in
                String(decoding: snapshot.body, as: UTF8.self).contains(
                    "kata_pulse_http_auth_failures_total{reason=\"denied\"} 4")
            })
    }

    @Test func mutualTLSLetsInOnlyCertificatesOfTheClientCA() async throws {
        let setup = try await start(
            """
            tls_server_config:
              cert_file: server.pem
              key_file: server.key
              client_auth_type: RequireAndVerifyClientCert
              client_ca_file: ca.pem
            """)
        defer { Task { await setup.agent.stop() } }
        let pki = setup.pki
        #expect(
            try await setup.status("/metrics", ["--cert", pki.path("client.pem"), "--key", pki.path("client.key")])
                == "200")
        #expect(
            try await setup.status("/metrics").hasPrefix("refused"), "no client certificate: the handshake must fail")
        #expect(
            try await setup.status(
                "/metrics", ["--cert", pki.path("foreign-client.pem"), "--key", pki.path("foreign-client.key")]
            ).hasPrefix("refused"),
            "a certificate of another CA must be refused")
        // TLS 1.2 and 1.3 are offered by default; TLS 1.1 is not.
        #expect(
            try await setup.status(
                "/metrics",
                ["--cert", pki.path("client.pem"), "--key", pki.path("client.key"), "--tlsv1.2", "--tls-max", "1.2"])
                == "200")
        #expect(
            try await setup.status(
                "/metrics",
                ["--cert", pki.path("client.pem"), "--key", pki.path("client.key"), "--tlsv1.1", "--tls-max", "1.1"]
            ).hasPrefix("refused"))
    }

    @Test func changesTakeEffectWithoutARestartAndABrokenOneKeepsTheLastGood() async throws {
        let setup = try await start(Self.tlsAndUser())
        defer { Task { await setup.agent.stop() } }
        #expect(try await setup.status("/metrics", ["--user", "prometheus:secret"]) == "200")
        setup.write(Self.tlsAndUser(hash: TestPasswords.other))
        #expect(try await eventually { try await setup.status("/metrics", ["--user", "prometheus:other"]) == "200" })
        #expect(try await setup.status("/metrics", ["--user", "prometheus:secret"]) == "401")
        // Broken: the last good configuration stays in force, and the failure shows.
        setup.write("tls_server_config:\n  cert_file: server.pem\n")
        #expect(await eventually { setup.access.families.first?.samples.first?.value == 0 })
        #expect(try await setup.status("/metrics", ["--user", "prometheus:other"]) == "200")
        // TLS cannot be switched off under a listener.
        setup.write("basic_auth_users:\n  prometheus: \(TestPasswords.secret)\n")
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await setup.status("/metrics", ["--user", "prometheus:other"]) == "200")
        setup.write(Self.tlsAndUser())
        #expect(await eventually { setup.access.families.first?.samples.first?.value == 1 })
        #expect(try await setup.status("/metrics", ["--user", "prometheus:secret"]) == "200")
    }

    @Test func aRenewedCertificateIsServedWithoutARestart() async throws {
        let setup = try await start(Self.tlsAndUser())
        defer { Task { await setup.agent.stop() } }
        let pki = setup.pki
        // Polled: with the whole suite running, the shared loops and the cooperative pool can be slow to answer
        // a first request (this test is about the certificate, not latency).
        #expect(try await eventually(timeout: .seconds(60)) { try await setup.status("/healthz") == "200" })
        // The renewal writes the same paths (as cert-manager or certbot do). The client certificate has no
        // SAN for 127.0.0.1, so curl refusing it shows the new one is served.
        func contents(_ name: String) throws -> String {
            String(decoding: try FileContents.read(pki.path(name), limit: 1 << 20), as: UTF8.self)
        }
        let original = (certificate: try contents("server.pem"), key: try contents("server.key"))
        Self.write(try contents("client.key"), to: pki.path("server.key"))
        Self.write(try contents("client.pem"), to: pki.path("server.pem"))
        #expect(try await eventually { try await setup.status("/healthz").hasPrefix("refused") })
        Self.write(original.key, to: pki.path("server.key"))
        Self.write(original.certificate, to: pki.path("server.pem"))
        #expect(try await eventually { try await setup.status("/healthz") == "200" })
    }

    @Test func anUnusableFileStopsTheAgentAtStartNamingTheField() async throws {
        let pki = try await TestPKI.make()
        let cases: [(String, String)] = [
            ("tls_server_config:\n  cert_file: server.pem\n", "line 2: tls_server_config.key_file: missing"),
            (
                "tls_server_config:\n  cert_file: server.pem\n  key_file: absent.key\n",
                "tls_server_config.key_file: cannot read \(pki.directory)/absent.key: No such file or directory"
            ),
            (
                "tls_server_config:\n  cert_file: ca.key\n  key_file: server.key\n",
                "tls_server_config.cert_file: \(pki.directory)/ca.key holds no PEM certificate"
            ),
            ("tls_server_config:\n  cert_file: server.pem\n  key_file: client.key\n", "tls_server_config.cert_file"),
            ("basic_auth_users:\n  alice: plaintext\n", "line 2: basic_auth_users.alice: not a bcrypt hash"),
        ]
        for (text, message) in cases {
            let file = pki.path("bad.yml")
            Self.write(text, to: file)
            let process = try AgentProcess(["--web.config.file", file, "--listen-address", "127.0.0.1:0"])
            #expect(await process.exitStatus() == 1, "\(text)")
            #expect(process.stderr.contains("web config \(file): \(message)"), "\(process.stderr)")
        }
        let absent = try AgentProcess(["--web.config.file", pki.path("absent.yml")])
        #expect(await absent.exitStatus() == 1)
        #expect(absent.stderr.contains("cannot read \(pki.path("absent.yml")): No such file or directory"))
    }
}
