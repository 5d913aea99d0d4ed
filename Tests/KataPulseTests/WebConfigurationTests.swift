import Dispatch
import Testing

@testable import KataPulse

/// The web configuration file: what parses, and that every unusable file is refused with the field named.
@Suite struct WebConfigurationTests {
    private func parse(_ text: String, directory: String = "/etc/kata-pulse") throws(WebConfigurationError)
        -> WebConfiguration
    {
        try WebConfiguration.parse(Array(text.utf8), directory: directory)
    }

    private func problem(_ text: String) -> WebConfigurationError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func everyFieldOfTheToolkitsFormatIsRead() throws {
        let configuration = try parse(
            """
            # node_exporter's example, all fields
            tls_server_config:
              cert_file: server.crt
              key_file: /secrets/server.key
              client_auth_type: "RequireAndVerifyClientCert"
              client_ca_file: ca.pem
              min_version: TLS13
              max_version: TLS13
              cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
              curve_preferences: [X25519, CurveP256]
              prefer_server_cipher_suites: false
            http_server_config:
              http2: no
              headers:
                X-Frame-Options: deny
                Strict-Transport-Security: max-age=31536000
            basic_auth_users:
              prometheus: \(TestPasswords.secret)
              'alice': \(TestPasswords.toolkitExample)
            """)
        let tls = try #require(configuration.tls)
        #expect(tls.certFile == "/etc/kata-pulse/server.crt")
        #expect(tls.keyFile == "/secrets/server.key")
        #expect(tls.clientAuth == .requireAndVerifyClientCert)
        #expect(tls.clientCAFile == "/etc/kata-pulse/ca.pem")
        #expect(tls.minVersion == .tls13 && tls.maxVersion == .tls13)
        #expect(tls.cipherSuites == [0xC02F, 0x1301])
        #expect(tls.curves == [29, 23])
        #expect(!tls.preferServerCipherSuites)
        #expect(!configuration.http2)
        #expect(
            configuration.headers == ["X-Frame-Options": "deny", "Strict-Transport-Security": "max-age=31536000"])
        #expect(
            configuration.basicAuthUsers == ["prometheus": TestPasswords.secret, "alice": TestPasswords.toolkitExample])
        #expect(
            configuration.referencedFiles == [
                "/etc/kata-pulse/server.crt", "/secrets/server.key", "/etc/kata-pulse/ca.pem",
            ])
    }

    @Test func emptyFilesAndEmptySectionsMeanPlainHTTPWithoutAuthentication() throws {
        for text in ["", "# nothing\n", "---\n", "tls_server_config:\nbasic_auth_users:\n", "{}"] {
            let configuration = try parse(text)
            #expect(configuration == WebConfiguration(), "\(text)")
        }
        // As the toolkit: only cert_file, key_file, client_auth_type or client_ca_file turn TLS on.
        #expect(try parse("tls_server_config:\n  min_version: TLS13\n").tls == nil)
    }

    @Test func defaultsAreTheToolkits() throws {
        let tls = try #require(try parse("tls_server_config: {cert_file: a.pem, key_file: a.key}").tls)
        #expect(tls.minVersion == .tls12 && tls.maxVersion == .tls13)
        #expect(tls.clientAuth == .noClientCert && tls.clientCAFile == nil)
        #expect(tls.cipherSuites.isEmpty && tls.curves.isEmpty)
        // The toolkit's old spelling of RequireAnyClientCert.
        let old = try parse("tls_server_config: {cert_file: a, key_file: b, client_auth_type: RequireClientCert}")
        #expect(old.tls?.clientAuth == .requireAnyClientCert)
    }

    @Test(arguments: [
        ("tls_config:\n  cert_file: a\n", "tls_config", 1, "unknown field"),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  certfile: c\n", "tls_server_config.certfile", 4,
            "unknown field"
        ),
        ("tls_server_config:\n  cert_file: a\n", "tls_server_config.key_file", 2, "missing"),
        ("tls_server_config:\n  key_file: a\n", "tls_server_config.cert_file", 2, "missing"),
        (
            "tls_server_config:\n  client_auth_type: RequireAndVerifyClientCert\n", "tls_server_config.cert_file", 2,
            "missing"
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Always\n",
            "tls_server_config.client_auth_type", 4, "unknown value 'Always'"
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: ca.pem\n",
            "tls_server_config.client_ca_file", 4, "without a client_auth_type"
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: VerifyClientCertIfGiven\n",
            "tls_server_config.client_ca_file", 2, "missing"
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
            "tls_server_config.cipher_suites", 4, "unknown cipher suite"
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [P256]\n",
            "tls_server_config.curve_preferences", 4, "unknown curve"
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n",
            "tls_server_config.min_version", 4, "unknown TLS version 'TLS14'"
        ),
        (
            "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n",
            "tls_server_config.min_version", 4, "above max_version"
        ),
        (
            "tls_server_config:\n  cert_file: [a, b]\n  key_file: c\n", "tls_server_config.cert_file", 2,
            "expected a string"
        ),
        ("http_server_config:\n  http2: maybe\n", "http_server_config.http2", 2, "expected true or false"),
        (
            "http_server_config:\n  headers:\n    Server: kata\n", "http_server_config.headers.Server", 3,
            "cannot be configured"
        ),
        (
            "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
            "http_server_config.headers.X-Frame-Options",
            3, "invalid value 'allow'"
        ),
        ("basic_auth_users:\n  alice: secret\n", "basic_auth_users.alice", 2, "not a bcrypt hash"),
        ("basic_auth_users:\n  alice: $6$salt$hash\n", "basic_auth_users.alice", 2, "not a bcrypt hash"),
        ("basic_auth_users:\n  alice:\n", "basic_auth_users.alice", 2, "not a bcrypt hash"),
        ("basic_auth_users:\n  - alice\n", "basic_auth_users", 2, "expected a mapping"),
        (
            "basic_auth_users:\n  alice: \(TestPasswords.secret)\n  alice: \(TestPasswords.other)\n",
            "basic_auth_users.alice", 3, "set twice"
        ),
        ("http_server_config: {}\nhttp_server_config: {}\n", "http_server_config", 2, "set twice"),
    ])
    func anUnusableFileIsRefusedNamingTheField(text: String, field: String, line: Int, message: String) {
        let error = problem(text)
        #expect(error?.field == field, "\(String(describing: error))")
        #expect(error?.line == line, "\(String(describing: error))")
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func yamlThatIsNotAConfigurationIsRefusedWithItsLine() {
        #expect(problem("- a\n- b\n")?.message.contains("must be a mapping") == true)
        let syntax = problem("tls_server_config:\n  cert_file: \"unterminated\n")
        #expect(syntax?.line == 3 && syntax?.field == nil, "\(String(describing: syntax))")
        #expect(problem("a: [\n")?.line != nil)
    }

    @Test func aliasBombsAndCyclesAreRefusedNotExpanded() {
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            let previous = Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(level - 1)))
            let name = Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(level)))
            bomb += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        let error = problem(bomb)
        #expect(error?.message.contains("more than") == true, "\(String(describing: error))")
        #expect(problem("a: &a [*a]\n") != nil)
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(problem("a: \(deep)\n")?.message.contains("nested deeper") == true)
    }

    @Test func theErrorAtStartNamesTheFileLineAndField() {
        var error = WebConfigurationError(field: "tls_server_config.key_file", line: 2, message: "missing")
        error.file = "/etc/kata-pulse/web.yml"
        #expect("\(error)" == "web config /etc/kata-pulse/web.yml: line 2: tls_server_config.key_file: missing")
    }
}

/// bcrypt through libcrypt, and the credentials of `Authorization: Basic`.
@Suite struct BasicAuthTests {
    @Test func bcryptHashesOfEveryPrefixAreCheckedByLibcrypt() throws {
        let secret = try #require(BcryptHash(TestPasswords.secret))
        #expect(secret.cost == 4)
        #expect(secret.matches(Array("secret".utf8)))
        #expect(!secret.matches(Array("Secret".utf8)))
        #expect(!secret.matches([]))
        // A C string ends at NUL: the bytes after it must not be ignored.
        #expect(!secret.matches(Array("secret\0anything".utf8)))
        let toolkit = try #require(BcryptHash(TestPasswords.toolkitExample))
        #expect(toolkit.cost == 10 && toolkit.matches(Array("fakepassword".utf8)))
        // $2a$ (older htpasswd and Go) is the same algorithm.
        let twoA = try #require(BcryptHash("$2a$" + TestPasswords.secret.dropFirst(4)))
        #expect(twoA.matches(Array("secret".utf8)))
        for malformed in [
            "", "$2b$04$short", "$2x$04$caGxbgWgShrl8MFAY1RGPOCuXLxgkhzUed5NC6zGiIujrXnFblNxa",
            "$2b$03$caGxbgWgShrl8MFAY1RGPOCuXLxgkhzUed5NC6zGiIujrXnFblNxa",
            "$2b$32$caGxbgWgShrl8MFAY1RGPOCuXLxgkhzUed5NC6zGiIujrXnFblNxa",
            "$2b$04$caGxbgWgShrl8MFAY1RGPOCuXLxgkhzUed5NC6zGiIujrXnFblNx!",
        ] {
            #expect(BcryptHash(malformed) == nil, "\(malformed)")
        }
    }

    @Test func base64IsDecodedAsGoDecodesIt() {
        #expect(Base64.decode(Array("cHJvbWV0aGV1czpzZWNyZXQ=".utf8)) == Array("prometheus:secret".utf8))
        #expect(Base64.decode(Array("YQ==".utf8)) == Array("a".utf8))
        #expect(Base64.decode(Array("YWI=".utf8)) == Array("ab".utf8))
        #expect(Base64.decode(Array("".utf8)) == [])
        for invalid in ["YQ", "YQ=", "Y===", "YQ==YQ==", "Y=Q=", "YW!=", "YWJj\n"] {
            #expect(Base64.decode(Array(invalid.utf8)) == nil, "\(invalid)")
        }
    }

    private func basic(_ user: String, _ password: String) -> String {
        "Basic " + base64("\(user):\(password)")
    }

    @Test func knownUsersWithTheRightPasswordAreLetInAndEveryoneElseIsNot() async {
        let authenticator = BasicAuthenticator(
            users: ["prometheus": TestPasswords.secret, "alice": TestPasswords.other],
            queue: DispatchQueue(label: "test"))
        #expect(await authenticator.check(authorization: basic("prometheus", "secret")) == .allowed)
        #expect(await authenticator.check(authorization: basic("alice", "other")) == .allowed)
        // Remembered: the same again is allowed without a bcrypt.
        #expect(await authenticator.check(authorization: basic("prometheus", "secret")) == .allowed)
        #expect(await authenticator.check(authorization: basic("prometheus", "other")) == .denied)
        #expect(await authenticator.check(authorization: basic("alice", "secret")) == .denied)
        #expect(await authenticator.check(authorization: basic("mallory", "secret")) == .denied)
        #expect(await authenticator.check(authorization: basic("", "")) == .denied)
        #expect(await authenticator.check(authorization: "basic " + base64("prometheus:secret")) == .allowed)
        for malformed in [nil, "", "Basic", "Basic ", "Bearer abc", "Basic !!!!", "Basic " + base64("nocolon")] {
            #expect(await authenticator.check(authorization: malformed) == .denied, "\(String(describing: malformed))")
        }
        // The password may hold colons: the user ends at the first.
        let colons = BasicAuthenticator(users: ["u": TestPasswords.secret], queue: DispatchQueue(label: "test"))
        #expect(await colons.check(authorization: basic("u:secret", "")) == .denied)
    }

    @Test func aFloodOfGuessesIsAnsweredBusyWhileAKnownScraperIsStillLetIn() async throws {
        // Cost 10: each check takes long enough (tens of ms) that the guesses pile up behind each other.
        let authenticator = BasicAuthenticator(
            users: ["prometheus": TestPasswords.toolkitExample], queue: DispatchQueue(label: "test"))
        #expect(await authenticator.check(authorization: basic("prometheus", "fakepassword")) == .allowed)
        let verdicts = await withTaskGroup(of: BasicAuthenticator.Verdict.self) { group in
            for guess in 0..<40 {
                group.addTask { await authenticator.check(authorization: self.basic("prometheus", "guess\(guess)")) }
            }
            // The scraper, remembered, does not queue behind the guesses.
            group.addTask { await authenticator.check(authorization: self.basic("prometheus", "fakepassword")) }
            var verdicts: [BasicAuthenticator.Verdict] = []
            for await verdict in group { verdicts.append(verdict) }
            return verdicts
        }
        #expect(verdicts.filter { $0 == .allowed }.count == 1)
        #expect(verdicts.filter { $0 == .busy }.count >= 40 - BasicAuthenticator.maxWaitingChecks * 2)
        #expect(verdicts.filter { $0 == .denied }.count >= 1)
    }
}

/// Standard padded base64 of a string's UTF-8, for test credentials.
func base64(_ text: String) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    let bytes = Array(text.utf8)
    var out = ""
    for start in stride(from: 0, to: bytes.count, by: 3) {
        let chunk = Array(bytes[start..<min(start + 3, bytes.count)]) + [0, 0]
        let value = UInt32(chunk[0]) << 16 | UInt32(chunk[1]) << 8 | UInt32(chunk[2])
        let count = min(3, bytes.count - start)
        for index in 0..<4 {
            out.append(index <= count ? alphabet[Int(value >> (18 - 6 * UInt32(index)) & 63)] : "=")
        }
    }
    return out
}
