/// A throwaway PKI made by `Tests/e2e/lib/make-pki.sh` (openssl): a CA, a server certificate for 127.0.0.1
/// signed by it and one for the name receiver.test only, a client certificate from it, and a foreign CA with a
/// client certificate of its own.
struct TestPKI {
    let directory: String

    /// Makes the PKI in a new temporary directory.
    static func make() async throws -> TestPKI {
        let directory = TemporaryDirectory().subdirectory("pki")
        let tests = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let result = try await AgentProcess.run("/bin/bash", ["/\(tests)/e2e/lib/make-pki.sh", directory])
        guard result.status == 0 else { throw TestFailure("make-pki.sh failed: \(result.output)") }
        return TestPKI(directory: directory)
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }
}

/// bcrypt hashes (cost 4: tests need not wait) of known passwords, as htpasswd or Python's crypt make them.
enum TestPasswords {
    /// "secret"
    static let secret = "$2b$04$caGxbgWgShrl8MFAY1RGPOCuXLxgkhzUed5NC6zGiIujrXnFblNxa"
    /// "other"
    static let other = "$2b$04$HGibwmJsuSto38UpPgpzdOynmOsGrrbrQPuaOxtzAUXC206CbGf0u"
    /// "fakepassword", exporter-toolkit's own `$2y$` (cost 10) example.
    static let toolkitExample = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"
}
