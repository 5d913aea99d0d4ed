import FuzzSupport

@testable import KataPulse

/// libFuzzer's entry point: one web configuration file per call.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    WebConfigFuzzer.check(FuzzInput(data, size))
    return 0
}

/// The web configuration parser's properties (libyaml underneath, then the toolkit's rules), on any bytes:
/// - it returns or throws, never crashes or hangs (aliases are expanded within a node budget, nesting within a
///   depth);
/// - it is a function: the same bytes give the same configuration or the same error;
/// - what it accepts can work: TLS has both files, relative paths are resolved (absolute), a verifying
///   `client_auth_type` has a CA file, `min_version` is not above `max_version`, every user's hash is a
///   well-formed bcrypt hash, every header is one the toolkit allows, with no line break;
/// - what it refuses says why, with a line inside the file (YAML counts CR, NEL, LS and PS as breaks too)
///   when it names one.
/// The credentials decoder of `Authorization: Basic` (base64) gets the same bytes: any output is at most
/// three quarters of the input, and only a multiple of four bytes decodes.
enum WebConfigFuzzer {
    static func check(_ input: FuzzInput) {
        let first = outcome(input.bytes)
        let second = outcome(input.bytes)
        fuzzRequire(first == second, "parse is not deterministic for \(fuzzDescribe(input.bytes))")
        switch first {
        case .success(let configuration):
            checkAccepted(configuration, input: input)
        case .failure(let error):
            fuzzRequire(!error.message.isEmpty, "an error without a message for \(fuzzDescribe(input.bytes))")
            // YAML's line breaks: LF, CR, and NEL, LS, PS (whose UTF-8 ends in 0x85, 0xA8, 0xA9); counting each
            // byte bounds the lines from above.
            let breaks = input.bytes.count { [0x0A, 0x0D, 0x85, 0xA8, 0xA9].contains($0) }
            if let line = error.line {
                fuzzRequire(
                    line >= 1 && line <= breaks + 2, "error line \(line) outside 1...\(breaks + 2): \(error)")
            }
        }
        if let decoded = Base64.decode(input.bytes) {
            fuzzRequire(input.bytes.count % 4 == 0, "base64 of \(input.bytes.count) bytes decoded")
            fuzzRequire(decoded.count <= input.bytes.count / 4 * 3, "base64 decoded to more than 3/4 of its input")
        }
    }

    private static func outcome(_ bytes: [UInt8]) -> Result<WebConfiguration, WebConfigurationError> {
        Result { () throws(WebConfigurationError) in try WebConfiguration.parse(bytes, directory: "/etc/kata-pulse") }
    }

    private static func checkAccepted(_ configuration: WebConfiguration, input: FuzzInput) {
        if let tls = configuration.tls {
            for path in configuration.referencedFiles {
                fuzzRequire(path.hasPrefix("/"), "path \(fuzzDescribe(path)) not resolved")
            }
            fuzzRequire(
                tls.certFile.count > 1 && tls.keyFile.count > 1, "TLS accepted without both files")
            fuzzRequire(!tls.clientAuth.verifies || tls.clientCAFile != nil, "verification accepted without a CA")
            fuzzRequire(tls.clientCAFile == nil || tls.clientAuth != .noClientCert, "a CA without client auth")
            fuzzRequire(tls.minVersion <= tls.maxVersion, "min_version above max_version accepted")
        }
        for (user, hash) in configuration.basicAuthUsers {
            fuzzRequire(BcryptHash(hash) != nil, "user \(fuzzDescribe(user)) accepted with \(fuzzDescribe(hash))")
        }
        for (name, value) in configuration.headers {
            guard let allowed = WebConfiguration.allowedHeaders[name] else {
                fuzzRequire(false, "header \(fuzzDescribe(name)) accepted")
                continue
            }
            fuzzRequire(allowed.map { $0.contains(value) } ?? true, "header \(name): \(fuzzDescribe(value)) accepted")
            fuzzRequire(!value.utf8.contains { $0 == 0x0A || $0 == 0x0D }, "header value with a line break")
        }
    }
}
