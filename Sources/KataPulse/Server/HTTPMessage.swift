import NIOCore

/// A request as the router sees it: method, path, decoded query and headers.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    public var query: [(name: String, value: String)]
    public var headers: [(name: String, value: String)]

    public init(method: String, uri: String, headers: [(name: String, value: String)]) {
        self.method = method
        self.headers = headers
        // Split on bytes, not Characters: "?" followed by a combining mark is one Character, but still the
        // delimiter (as `&`, `=`, `,` and `;` are below).
        let parts = uri.utf8.split(separator: UInt8(ascii: "?"), maxSplits: 1, omittingEmptySubsequences: false)
        self.path = parts.first.map { String(Substring($0)) } ?? "/"
        self.query = parts.count > 1 ? URLQuery.parse(Substring(parts[1])) : []
    }

    /// The first value of a query parameter.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }

    /// Every value of a header (case-insensitive name), joined as HTTP allows.
    public func header(_ name: String) -> String? {
        let values = headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ",")
    }

    /// Whether the client lists `mediaType` in `Accept` (parameters ignored; `q=0` means no).
    public func accepts(_ mediaType: String) -> Bool {
        HeaderList.contains(header("Accept"), mediaType)
    }

    /// Whether the client accepts a gzip-encoded response.
    public var acceptsGzip: Bool { HeaderList.contains(header("Accept-Encoding"), "gzip") }
}

/// A response: status, headers and a body in parts (so cached buffers are sent without copying).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [ByteBuffer]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [ByteBuffer] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A plain-text response.
    public static func text(_ status: Int, _ text: String, headers: [(name: String, value: String)] = []) -> Self {
        HTTPResponse(
            status: status, headers: [("Content-Type", "text/plain; charset=utf-8")] + headers,
            body: [ByteBuffer(string: text)])
    }

    public var bodyLength: Int { body.reduce(0) { $0 + $1.readableBytes } }
}

/// Parsing of comma-separated header lists such as `Accept` and `Accept-Encoding`.
enum HeaderList {
    /// Whether `token` is listed (case-insensitive, parameters ignored, `q=0` excluded).
    static func contains(_ header: String?, _ token: String) -> Bool {
        guard let header else { return false }
        for item in header.utf8.split(separator: UInt8(ascii: ",")) {
            let pieces = item.split(separator: UInt8(ascii: ";")).map { Substring($0).trimmingSpaces() }
            guard let name = pieces.first, name.lowercased() == token.lowercased() else { continue }
            let refused = pieces.dropFirst().contains { piece in
                let pair = piece.utf8.split(separator: UInt8(ascii: "="), maxSplits: 1).map {
                    Substring($0).trimmingSpaces()
                }
                return pair.count == 2 && pair[0].lowercased() == "q" && (Double(pair[1]) ?? 1) == 0
            }
            if !refused { return true }
        }
        return false
    }
}

/// `application/x-www-form-urlencoded` query decoding.
enum URLQuery {
    static func parse(_ query: Substring) -> [(name: String, value: String)] {
        query.utf8.split(separator: UInt8(ascii: "&")).map { pair in
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(Substring(parts[0])), parts.count > 1 ? decode(Substring(parts[1])) : "")
        }
    }

    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2, iterator.prefix(2).allSatisfy(ASCII.isHexDigit),
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
