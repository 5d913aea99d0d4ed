import NIOCore
import Testing

@testable import KataPulse
@testable import KataPulseTLS

/// Delivery to `https://` receivers, as Python's `ssl` (OpenSSL) serves them: the server verified against the
/// given CA and name, the agent's client certificate shown when asked, and renewed files picked up.
@Suite struct RemoteWriteTLSTests {
    /// An HTTPS receiver answering 204 to every POST, printing `POST <client's common name> <Authorization>`
    /// per request; with `clientCA` it requires a client certificate signed by it.
    private final class Receiver {
        let process: AgentProcess
        let port: Int

        init(pki: TestPKI, certificate: String = "server", clientCA: String?) async throws {
            let script = """
                import http.server, ssl, sys
                certificate, key, client_ca = sys.argv[1:4]
                class Receiver(http.server.BaseHTTPRequestHandler):
                    def do_POST(self):
                        self.rfile.read(int(self.headers["Content-Length"]))
                        peer = self.connection.getpeercert()
                        name = dict(field[0] for field in peer["subject"])["commonName"] if peer else "-"
                        print(f"POST {name} {self.headers.get('Authorization', '-')}", flush=True)
                        self.send_response(204)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    def log_message(self, *args):
                        pass
                server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(certificate, key)
                if client_ca != "-":
                    context.verify_mode = ssl.CERT_REQUIRED
                    context.load_verify_locations(client_ca)
                server.socket = context.wrap_socket(server.socket, server_side=True)
                print(f"PORT {server.server_address[1]}", flush=True)
                server.serve_forever()
                """
            WebAccessTests.write(script, to: pki.path("receiver.py"))
            let process = try AgentProcess(
                executable: "/usr/bin/python3",
                arguments: [
                    pki.path("receiver.py"), pki.path("\(certificate).pem"), pki.path("\(certificate).key"),
                    clientCA ?? "-",
                ],
                capturesStdout: true)
            self.process = process
            var port: Int?
            _ = await eventually {
                port = process.stderr.split(separator: "\n").first { $0.hasPrefix("PORT ") }
                    .flatMap { Int($0.dropFirst(5)) }
                return port != nil
            }
            guard let port else { throw TestFailure("the receiver did not start: \(process.stderr)") }
            self.port = port
        }

        /// The requests received so far, one line each.
        var requests: [String] {
            process.stderr.split(separator: "\n").filter { $0.hasPrefix("POST ") }.map(String.init)
        }

        deinit { process.terminate() }
    }

    /// Remote write to `receiver` with `tls`, one batch queued, its sender running until `body` returns.
    private func delivering(
        to receiver: Receiver, _ tls: ClientTLS.Configuration,
        _ body: (RemoteWriteExport) async throws -> Void
    ) async throws {
        var configuration = RemoteWriteExport.Configuration()
        configuration.urls = [try #require(RemoteWriteURL(parsing: "https://127.0.0.1:\(receiver.port)/api/v1/write"))]
        configuration.queueDirectory = TemporaryDirectory().subdirectory("queue")
        configuration.tls = tls
        configuration.minBackoff = .milliseconds(10)
        configuration.maxBackoff = .milliseconds(50)
        configuration.timeout = .seconds(5)
        let export = try #require(
            try RemoteWriteExport(configuration: configuration, served: .all, tlsProvider: NIOSSLClientProvider()))
        try export.queues[0].append(
            payload: [1, 2, 3], samples: 3, highestTimestamp: 1_000, now: UnixTime.milliseconds())
        let sender = export.senders(group: testGroup, logger: testLogger)[0]
        let running = Task { try await sender.run() }
        defer { running.cancel() }
        try await body(export)
    }

    private func delivered(_ export: RemoteWriteExport) async -> Bool {
        await eventually { export.queues[0].size.batches == 0 }
    }

    private func retriedSamples(_ export: RemoteWriteExport) -> Double {
        export.metrics.families.first { $0.name == RemoteWriteMetrics.retriedSamples.name }?.samples.first?.value ?? 0
    }

    /// Waits until the sender failed three more times; the batch must still be queued then.
    private func refused(_ export: RemoteWriteExport) async -> Bool {
        let before = retriedSamples(export)
        // Three failed attempts. A refusal can surface only when a request's deadline (5 s) passes (a client
        // certificate rejected after a TLS 1.3 handshake the client saw complete), and the suite's other tests
        // load the machine: a 30 s bound.
        let retried = await eventually(timeout: .seconds(30)) { retriedSamples(export) >= before + 9 }
        return retried && export.queues[0].size.batches == 1
    }

    @Test func theClientCertificateIsShownToAReceiverThatRequiresIt() async throws {
        let pki = try await TestPKI.make()
        let receiver = try await Receiver(pki: pki, clientCA: pki.path("ca.pem"))
        var tls = ClientTLS.Configuration()
        tls.caFile = pki.path("ca.pem")
        tls.certFile = pki.path("client.pem")
        tls.keyFile = pki.path("client.key")
        try await delivering(to: receiver, tls) { export in
            #expect(await delivered(export))
            #expect(receiver.requests == ["POST prometheus -"], "the client certificate's name is `prometheus`")
        }
        // Without a certificate, or with one of another CA, the receiver refuses the handshake; the batch stays.
        var anonymous = tls
        (anonymous.certFile, anonymous.keyFile) = (nil, nil)
        try await delivering(to: receiver, anonymous) { export in #expect(await refused(export)) }
        var foreign = tls
        (foreign.certFile, foreign.keyFile) = (pki.path("foreign-client.pem"), pki.path("foreign-client.key"))
        try await delivering(to: receiver, foreign) { export in #expect(await refused(export)) }
        #expect(receiver.requests.count == 1)
    }

    @Test func aRenewedCertificateIsUsedWithoutARestart() async throws {
        let pki = try await TestPKI.make()
        let receiver = try await Receiver(pki: pki, clientCA: pki.path("ca.pem"))
        // The agent starts with a certificate the receiver refuses; renewal writes a good one at the same paths.
        let (certificate, key) = (pki.path("agent.pem"), pki.path("agent.key"))
        let contents = { (name: String) in
            String(decoding: try FileContents.read(pki.path(name), limit: 1 << 20), as: UTF8.self)
        }
        WebAccessTests.write(try contents("foreign-client.pem"), to: certificate)
        WebAccessTests.write(try contents("foreign-client.key"), to: key)
        var tls = ClientTLS.Configuration()
        tls.caFile = pki.path("ca.pem")
        (tls.certFile, tls.keyFile) = (certificate, key)
        try await delivering(to: receiver, tls) { export in
            #expect(await refused(export))
            // A renewal half done (a new key, the old certificate) cannot be used: the previous pair stays.
            WebAccessTests.write(try contents("client.key"), to: key)
            #expect(await refused(export))
            WebAccessTests.write(try contents("client.pem"), to: certificate)
            #expect(await delivered(export))
        }
        #expect(receiver.requests == ["POST prometheus -"])
    }

    @Test func theReceiversCertificateIsVerifiedAgainstTheCAAndTheName() async throws {
        let pki = try await TestPKI.make()
        let receiver = try await Receiver(pki: pki, clientCA: nil)
        var ours = ClientTLS.Configuration()
        ours.caFile = pki.path("ca.pem")
        // The certificate is for IP 127.0.0.1 and DNS localhost: the address matches, and so does the name.
        try await delivering(to: receiver, ours) { export in #expect(await delivered(export)) }
        var named = ours
        named.serverName = "localhost"
        try await delivering(to: receiver, named) { export in #expect(await delivered(export)) }
        // Signed by a CA the agent does not trust (nor do the system's roots trust it).
        var foreign = ClientTLS.Configuration()
        foreign.caFile = pki.path("foreign-ca.pem")
        try await delivering(to: receiver, foreign) { export in #expect(await refused(export)) }
        try await delivering(to: receiver, ClientTLS.Configuration()) { export in #expect(await refused(export)) }
        var insecure = foreign
        insecure.insecureSkipVerify = true
        try await delivering(to: receiver, insecure) { export in #expect(await delivered(export)) }
        #expect(receiver.requests.count == 3)
    }

    @Test func aServerNameIsTheNameTheCertificateMustCarry() async throws {
        let pki = try await TestPKI.make()
        // A certificate for receiver.test only, reached at 127.0.0.1 (the name resolves elsewhere, or nowhere).
        let receiver = try await Receiver(pki: pki, certificate: "named-server", clientCA: nil)
        var tls = ClientTLS.Configuration()
        tls.caFile = pki.path("ca.pem")
        try await delivering(to: receiver, tls) { export in #expect(await refused(export)) }
        tls.serverName = "other.test"
        try await delivering(to: receiver, tls) { export in #expect(await refused(export)) }
        tls.serverName = "receiver.test"
        try await delivering(to: receiver, tls) { export in #expect(await delivered(export)) }
        #expect(receiver.requests.count == 1)
    }

    @Test func unusableFilesAreRefusedAtStartNamingTheSetting() async throws {
        let pki = try await TestPKI.make()
        func error(_ configure: (inout ClientTLS.Configuration) -> Void) -> ClientTLSError? {
            var configuration = ClientTLS.Configuration()
            configure(&configuration)
            do {
                _ = try ClientTLS(configuration: configuration, provider: NIOSSLClientProvider())
                return nil
            } catch {
                return error
            }
        }
        #expect(error { $0.caFile = pki.path("ca.key") }?.setting == .caFile)
        #expect(error { $0.caFile = pki.path("absent.pem") }?.message == "No such file or directory")
        #expect(
            error { ($0.certFile, $0.keyFile) = (pki.path("client.key"), pki.path("client.key")) }?.setting == .certFile
        )
        #expect(
            error { ($0.certFile, $0.keyFile) = (pki.path("client.pem"), pki.path("client.pem")) }?.setting == .keyFile)
        // A key of another certificate.
        let mismatch = error { ($0.certFile, $0.keyFile) = (pki.path("client.pem"), pki.path("server.key")) }
        #expect(
            mismatch?.setting == .keyFile && mismatch?.message.hasPrefix("does not go with the certificate") == true)
        #expect(error { ($0.certFile, $0.keyFile) = (pki.path("client.pem"), pki.path("client.key")) } == nil)
    }
}
