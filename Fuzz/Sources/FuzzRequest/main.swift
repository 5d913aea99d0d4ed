import FuzzSupport

@testable import KataPulse

/// libFuzzer's entry point: one request per call, as the router reads it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    RequestFuzzer.check(FuzzInput(data, size))
    return 0
}

/// The request properties: the request target and header values the router reads, checked against the
/// standards' definitions on bytes.
///
/// The input is four fields separated by NUL bytes: the request target (`/metrics?sandbox=…`), an `Accept`
/// value, an `Accept-Encoding` value and a second `Accept` header (named `accept`, so the two are joined). A
/// request target or header value holds no NUL; invalid UTF-8 is repaired first, as the server's strings are.
///
/// - the path is the target before its first `?` byte, and never contains one;
/// - the query is what WHATWG `application/x-www-form-urlencoded` parsing of the bytes after that `?` gives:
///   `&`-separated pairs, split at the first `=`, `+` as a space, `%` and two hex digits as a byte;
/// - decoding text with no `%` and no `+` changes nothing;
/// - header names match case-insensitively and repeated headers are joined with `,`;
/// - a media type or coding is accepted when a comma-separated item names it, parameters aside, unless its
///   `q` is 0;
/// - `SandboxID.isValid` accepts exactly `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`, so an accepted id is one safe
///   path component (no `/`, not `.` or `..`).
enum RequestFuzzer {
    static func check(_ input: FuzzInput) {
        let fields = input.fields(separatedBy: 0x00, count: 4).map { String(decoding: $0, as: UTF8.self) }
        let (uri, accept, acceptEncoding, secondAccept) = (fields[0], fields[1], fields[2], fields[3])
        let request = HTTPRequest(
            method: "GET", uri: uri,
            headers: [("Accept", accept), ("Accept-Encoding", acceptEncoding), ("accept", secondAccept)])
        let target = Array(uri.utf8)

        let question = target.firstIndex(of: UInt8(ascii: "?"))
        let path = String(decoding: target[..<(question ?? target.endIndex)], as: UTF8.self)
        fuzzRequire(
            request.path == path && !request.path.utf8.contains(UInt8(ascii: "?")),
            "path of \(fuzzDescribe(uri)) is \(fuzzDescribe(request.path)), expected \(fuzzDescribe(path))")

        let rawPairs = question.map { formPairs(target[($0 + 1)...]) } ?? []
        let expected = rawPairs.map { (name: formDecode($0.name), value: formDecode($0.value)) }
        fuzzRequire(
            request.query.map { [$0.name, $0.value] } == expected.map { [$0.name, $0.value] },
            "query of \(fuzzDescribe(uri)): \(difference(request.query, expected))")
        for name in ["sandbox", "filter_family", "format"] + expected.prefix(4).map(\.name) {
            fuzzRequire(
                request.queryValue(name) == expected.first { $0.name == name }?.value,
                "queryValue(\(fuzzDescribe(name))) is not the first value")
        }

        for piece in rawPairs.flatMap({ [$0.name, $0.value] }) + [target[...]] {
            let text = String(decoding: piece, as: UTF8.self)
            let decoded = URLQuery.decode(Substring(text))
            let expectedText = formDecode(piece)
            fuzzRequire(
                decoded == expectedText,
                "decode(\(fuzzDescribe(text))) is \(fuzzDescribe(decoded)), expected \(fuzzDescribe(expectedText))")
            if !piece.contains(UInt8(ascii: "%")) && !piece.contains(UInt8(ascii: "+")) {
                fuzzRequire(decoded == text, "decode(\(fuzzDescribe(text))) is not the identity")
            }
        }

        fuzzRequire(request.header("aCCEPT") == accept + "," + secondAccept, "Accept headers not joined")
        fuzzRequire(request.header("accept-encoding") == acceptEncoding, "Accept-Encoding not found")
        fuzzRequire(request.header("Accept-Language") == nil, "a header that was not sent is found")
        let joinedAccept = accept + "," + secondAccept
        for mediaType in ["text/html", "application/json"] {
            fuzzRequire(
                request.accepts(mediaType) == listContains(joinedAccept, mediaType),
                "accepts(\(mediaType)) is \(request.accepts(mediaType)) for Accept \(fuzzDescribe(joinedAccept))")
        }
        fuzzRequire(
            request.acceptsGzip == listContains(acceptEncoding, "gzip"),
            "acceptsGzip is \(request.acceptsGzip) for Accept-Encoding \(fuzzDescribe(acceptEncoding))")
        fuzzRequire(HeaderList.contains(nil, "gzip") == false, "an absent header accepts gzip")

        for candidate in expected.flatMap({ [$0.name, $0.value] }) + fields {
            let valid = SandboxID.isValid(candidate)
            fuzzRequire(
                valid == isSandboxID(Array(candidate.utf8)) && SandboxID.isValid(candidate[...]) == valid,
                "SandboxID.isValid(\(fuzzDescribe(candidate))) is \(valid)")
            if valid {
                fuzzRequire(
                    candidate != "." && candidate != ".." && !candidate.contains("/"),
                    "\(fuzzDescribe(candidate)) is a valid id and not one path component")
            }
        }
    }

    /// The first pair that differs, for failure messages.
    static func difference(_ actual: [(name: String, value: String)], _ expected: [(name: String, value: String)])
        -> String
    {
        for (index, (left, right)) in zip(actual, expected).enumerated() where left != right {
            return "pair \(index) is \(fuzzDescribe(left.name))=\(fuzzDescribe(left.value)), expected "
                + "\(fuzzDescribe(right.name))=\(fuzzDescribe(right.value))"
        }
        return "\(actual.count) pairs, expected \(expected.count)"
    }

    /// The `name=value` pairs of a query, split on bytes: empty pairs dropped, a pair without `=` has an
    /// empty value.
    static func formPairs(_ query: ArraySlice<UInt8>) -> [(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>)] {
        query.split(separator: UInt8(ascii: "&")).map { pair in
            guard let equals = pair.firstIndex(of: UInt8(ascii: "=")) else { return (pair, []) }
            return (pair[..<equals], pair[(equals + 1)...])
        }
    }

    /// Percent-decoding with `+` as a space; a `%` without two hex digits after it is kept as written.
    static func formDecode(_ bytes: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(0x20)
            } else if byte == UInt8(ascii: "%"), index + 2 < bytes.endIndex,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Whether a comma-separated header value lists `token` (ASCII case-insensitive, `;` parameters after it,
    /// spaces and tabs around items and parameters), without `q=0`; on bytes.
    static func listContains(_ header: String, _ token: String) -> Bool {
        let wanted = token.utf8.map(lowercased)
        for item in Array(header.utf8).split(separator: UInt8(ascii: ",")) {
            let pieces = item.split(separator: UInt8(ascii: ";")).map(trimmed)
            guard let name = pieces.first, name.map(lowercased) == wanted else { continue }
            let refused = pieces.dropFirst().contains { piece in
                let pair = piece.split(separator: UInt8(ascii: "="), maxSplits: 1).map(trimmed)
                return pair.count == 2 && pair[0].map(lowercased) == [UInt8(ascii: "q")]
                    && (Double(String(decoding: pair[1], as: UTF8.self)) ?? 1) == 0
            }
            if !refused { return true }
        }
        return false
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) })
        else { return [] }
        return bytes[first...last]
    }

    /// `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`.
    static func isSandboxID(_ bytes: [UInt8]) -> Bool {
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        }
        guard let first = bytes.first, isAlphanumeric(first), bytes.count <= 128 else { return false }
        return bytes.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }
}
