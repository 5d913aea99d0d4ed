extension WebConfiguration {
    /// Largest web configuration file read; real ones are a few hundred bytes.
    public static let maxFileSize = 1 << 20

    /// Parses and validates a web configuration file's contents; relative paths are taken from `directory`.
    /// Files it names are not read here (see the TLS provider); only their names are checked.
    public static func parse(_ bytes: [UInt8], directory: String) throws(WebConfigurationError) -> WebConfiguration {
        guard bytes.count <= maxFileSize else {
            throw WebConfigurationError(field: nil, line: nil, message: "larger than \(maxFileSize) bytes")
        }
        let root: YAMLNode?
        do {
            root = try YAMLNode.parse(bytes)
        } catch {
            throw WebConfigurationError(field: nil, line: error.line, message: error.message)
        }
        var configuration = WebConfiguration()
        guard let root, !root.isNull else { return configuration }
        let top = try Fields(root, path: "", known: ["tls_server_config", "http_server_config", "basic_auth_users"])
        if let node = top["tls_server_config"] {
            configuration.tls = try parseTLS(node, directory: directory)
        }
        if let node = top["http_server_config"] {
            let http = try Fields(node, path: "http_server_config", known: ["http2", "headers"])
            if let value = http["http2"] { configuration.http2 = try bool(value, "http_server_config.http2") }
            if let value = http["headers"] {
                let headers = try stringPairs(value, "http_server_config.headers")
                try validateHeaders(headers)
                configuration.headers = Dictionary(uniqueKeysWithValues: headers.map { ($0.name, $0.value) })
            }
        }
        if let node = top["basic_auth_users"] {
            let users = try stringPairs(node, "basic_auth_users")
            configuration.basicAuthUsers = Dictionary(uniqueKeysWithValues: users.map { ($0.name, $0.value) })
            for (user, hash, line) in users {
                guard BcryptHash(hash) != nil else {
                    throw WebConfigurationError(
                        field: "basic_auth_users.\(user)", line: line,
                        message: "not a bcrypt hash ($2a$, $2b$ or $2y$, cost 04 to 31, 60 characters)")
                }
            }
        }
        return configuration
    }

    private static func parseTLS(_ node: YAMLNode, directory: String) throws(WebConfigurationError) -> TLSServer? {
        let path = "tls_server_config"
        let fields = try Fields(
            node, path: path,
            known: [
                "cert_file", "key_file", "client_auth_type", "client_ca_file", "cipher_suites", "curve_preferences",
                "min_version", "max_version", "prefer_server_cipher_suites",
            ])
        func text(_ key: String) throws(WebConfigurationError) -> String {
            guard let value = fields[key] else { return "" }
            return try string(value, "\(path).\(key)")
        }
        let certFile = try text("cert_file")
        let keyFile = try text("key_file")
        let clientAuthName = try text("client_auth_type")
        let clientCAFile = try text("client_ca_file")
        let line = node.line
        // As the toolkit decides: none of the four set means no TLS, whatever else the section holds.
        if certFile.isEmpty && keyFile.isEmpty && clientAuthName.isEmpty && clientCAFile.isEmpty { return nil }
        guard !certFile.isEmpty else {
            throw WebConfigurationError(field: "\(path).cert_file", line: line, message: "missing")
        }
        guard !keyFile.isEmpty else {
            throw WebConfigurationError(field: "\(path).key_file", line: line, message: "missing")
        }
        var tls = TLSServer(certFile: resolve(certFile, in: directory), keyFile: resolve(keyFile, in: directory))
        if !clientAuthName.isEmpty {
            // "RequireClientCert" is the toolkit's old spelling, still accepted.
            let name = clientAuthName == "RequireClientCert" ? ClientAuth.requireAnyClientCert.rawValue : clientAuthName
            guard let clientAuth = ClientAuth(rawValue: name) else {
                throw WebConfigurationError(
                    field: "\(path).client_auth_type", line: fields["client_auth_type"]?.line,
                    message: "unknown value '\(clientAuthName)'; expected one of "
                        + ClientAuth.allCases.map(\.rawValue).joined(separator: ", "))
            }
            tls.clientAuth = clientAuth
        }
        if !clientCAFile.isEmpty {
            guard tls.clientAuth != .noClientCert else {
                throw WebConfigurationError(
                    field: "\(path).client_ca_file", line: fields["client_ca_file"]?.line,
                    message: "set without a client_auth_type that asks for client certificates")
            }
            tls.clientCAFile = resolve(clientCAFile, in: directory)
        } else if tls.clientAuth.verifies {
            throw WebConfigurationError(
                field: "\(path).client_ca_file", line: line,
                message: "missing: client_auth_type \(tls.clientAuth.rawValue) verifies client certificates against it")
        }
        if let value = fields["cipher_suites"] {
            tls.cipherSuites = try names(value, "\(path).cipher_suites", from: cipherSuiteNames, kind: "cipher suite")
        }
        if let value = fields["curve_preferences"] {
            tls.curves = try names(value, "\(path).curve_preferences", from: curveNames, kind: "curve")
        }
        for key in ["min_version", "max_version"] {
            guard let value = fields[key] else { continue }
            let name = try string(value, "\(path).\(key)")
            guard let version = TLSVersion(rawValue: name) else {
                throw WebConfigurationError(
                    field: "\(path).\(key)", line: value.line,
                    message: "unknown TLS version '\(name)'; expected one of "
                        + TLSVersion.allCases.map(\.rawValue).joined(separator: ", "))
            }
            if key == "min_version" { tls.minVersion = version } else { tls.maxVersion = version }
        }
        guard tls.minVersion <= tls.maxVersion else {
            throw WebConfigurationError(
                field: "\(path).min_version", line: fields["min_version"]?.line,
                message: "\(tls.minVersion.rawValue) is above max_version \(tls.maxVersion.rawValue)")
        }
        if let value = fields["prefer_server_cipher_suites"] {
            tls.preferServerCipherSuites = try bool(value, "\(path).prefer_server_cipher_suites")
        }
        return tls
    }

    private static func validateHeaders(
        _ headers: [(name: String, value: String, line: Int)]
    ) throws(WebConfigurationError) {
        for (name, value, line) in headers {
            let field = "http_server_config.headers.\(name)"
            guard let allowed = allowedHeaders[name] else {
                throw WebConfigurationError(
                    field: field, line: line,
                    message: "cannot be configured; allowed: " + allowedHeaders.keys.sorted().joined(separator: ", "))
            }
            if let allowed, !allowed.contains(value) {
                throw WebConfigurationError(
                    field: field, line: line,
                    message: "invalid value '\(value)'; expected one of " + allowed.joined(separator: ", "))
            }
            guard !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw WebConfigurationError(field: field, line: line, message: "contains a line break")
            }
        }
    }

    private static func resolve(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") || directory.isEmpty ? path : directory + "/" + path
    }

    private static func string(_ node: YAMLNode, _ field: String) throws(WebConfigurationError) -> String {
        // As yaml.v2 decodes into a string: any scalar's text; null is empty.
        guard case .scalar(let text, _) = node.content else {
            throw WebConfigurationError(
                field: field, line: node.line, message: "expected a string, found \(node.kindName)")
        }
        return node.isNull ? "" : text
    }

    private static func bool(_ node: YAMLNode, _ field: String) throws(WebConfigurationError) -> Bool {
        // YAML 1.1 booleans, as yaml.v2 resolves them; only unquoted.
        if case .scalar(let text, true) = node.content {
            if ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"].contains(text) { return true }
            if ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"].contains(text) {
                return false
            }
        }
        throw WebConfigurationError(field: field, line: node.line, message: "expected true or false")
    }

    /// A mapping of strings, in the file's order, with each key's line; a key set twice is an error.
    private static func stringPairs(
        _ node: YAMLNode, _ field: String
    ) throws(WebConfigurationError) -> [(name: String, value: String, line: Int)] {
        if node.isNull { return [] }
        guard case .mapping(let pairs) = node.content else {
            throw WebConfigurationError(
                field: field, line: node.line, message: "expected a mapping, found \(node.kindName)")
        }
        var seen: Set<String> = []
        var result: [(name: String, value: String, line: Int)] = []
        for (key, value) in pairs {
            let name = try string(key, field)
            guard seen.insert(name).inserted else {
                throw WebConfigurationError(field: "\(field).\(name)", line: key.line, message: "set twice")
            }
            result.append((name, try string(value, "\(field).\(name)"), key.line))
        }
        return result
    }

    private static func names(
        _ node: YAMLNode, _ field: String, from table: [(name: String, value: UInt16)], kind: String
    ) throws(WebConfigurationError) -> [UInt16] {
        if node.isNull { return [] }
        guard case .sequence(let items) = node.content else {
            throw WebConfigurationError(
                field: field, line: node.line, message: "expected a list, found \(node.kindName)")
        }
        var values: [UInt16] = []
        for item in items {
            let name = try string(item, field)
            guard let entry = table.first(where: { $0.name == name }) else {
                throw WebConfigurationError(field: field, line: item.line, message: "unknown \(kind) '\(name)'")
            }
            values.append(entry.value)
        }
        return values
    }
}

/// A mapping's values by key, checked against the keys a section knows (as yaml.v2's strict mode does).
private struct Fields {
    private var values: [String: YAMLNode] = [:]

    init(_ node: YAMLNode, path: String, known: Set<String>) throws(WebConfigurationError) {
        if node.isNull { return }
        let name = path.isEmpty ? "the file" : path
        guard case .mapping(let pairs) = node.content else {
            throw WebConfigurationError(
                field: path.isEmpty ? nil : path, line: node.line,
                message: "\(name) must be a mapping, not \(node.kindName)")
        }
        for (key, value) in pairs {
            guard case .scalar(let text, _) = key.content else {
                throw WebConfigurationError(
                    field: path.isEmpty ? nil : path, line: key.line, message: "a key must be a string")
            }
            let field = path.isEmpty ? text : "\(path).\(text)"
            guard known.contains(text) else {
                throw WebConfigurationError(
                    field: field, line: key.line,
                    message: "unknown field; \(name) takes " + known.sorted().joined(separator: ", "))
            }
            guard values[text] == nil else {
                throw WebConfigurationError(field: field, line: key.line, message: "set twice")
            }
            values[text] = value
        }
    }

    subscript(key: String) -> YAMLNode? { values[key] }
}

/// A web configuration file that cannot be used: the field (dotted path) and line when known, and why.
public struct WebConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String?
    public var line: Int?
    public var message: String
    /// The file, when the error is reported on its own (at start); a reload's log names it separately.
    public var file: String?

    public init(field: String?, line: Int?, message: String) {
        self.field = field
        self.line = line
        self.message = message
    }

    public var description: String {
        (file.map { "web config \($0): " } ?? "") + (line.map { "line \($0): " } ?? "")
            + (field.map { "\($0): " } ?? "") + message
    }
}
