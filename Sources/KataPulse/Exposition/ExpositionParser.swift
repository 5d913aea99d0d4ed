import NIOCore

/// Why a body was rejected by ``ExpositionParser``.
public struct ExpositionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broad class of a rejection; each is counted separately.
    public enum Kind: String, Sendable, Equatable {
        /// The bytes are not valid text format 0.0.4.
        case syntax
        /// The body is valid but exceeds one of the ``ExpositionLimits``.
        case limit
    }

    public var kind: Kind
    /// 1-based line number where the problem was found.
    public var line: Int
    public var message: String

    public var description: String { "line \(line): \(message)" }

    static func syntax(_ line: Int, _ message: String) -> ExpositionError {
        ExpositionError(kind: .syntax, line: line, message: message)
    }

    static func limit(_ line: Int, _ message: String) -> ExpositionError {
        ExpositionError(kind: .limit, line: line, message: message)
    }
}

/// A byte-level parser for the Prometheus text exposition format 0.0.4.
///
/// It accepts what Prometheus' own text parser accepts (HELP, TYPE, comments, escaped label values,
/// NaN/±Inf/exponents, optional timestamps, `\r\n` line ends), drops timestamps, and rejects everything
/// else with a line number. It runs in time linear in the input and never traps on any input.
public struct ExpositionParser: Sendable {
    public var limits: ExpositionLimits

    public init(limits: ExpositionLimits = .default) {
        self.limits = limits
    }

    /// Parses a whole body into families, in order of first appearance.
    public func parse(_ bytes: [UInt8]) throws(ExpositionError) -> [MetricFamily] {
        try bytes.withUnsafeBufferPointer { buffer throws(ExpositionError) in try parse(buffer) }
    }

    /// Parses a body held in a buffer (the agent's own renderings), without copying it out.
    func parse(_ buffer: ByteBuffer) throws(ExpositionError) -> [MetricFamily] {
        // `withUnsafeReadableBytes` rethrows untyped errors: carry the typed one out in a Result.
        try buffer.withUnsafeReadableBytes { raw in
            Result { () throws(ExpositionError) in try parse(raw.bindMemory(to: UInt8.self)) }
        }.get()
    }

    func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(ExpositionError) -> [MetricFamily] {
        var state = ParseState(limits: limits)
        try state.parse(buffer)
        return state.families
    }

    /// Parses a body given as a string (tests and fixtures).
    public func parse(_ text: String) throws(ExpositionError) -> [MetricFamily] {
        try parse(Array(text.utf8))
    }
}

private enum Byte {
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let hash = UInt8(ascii: "#")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let equals = UInt8(ascii: "=")
    static let comma = UInt8(ascii: ",")
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let letterN = UInt8(ascii: "n")
    static let underscore = UInt8(ascii: "_")
    static let colon = UInt8(ascii: ":")
}

/// Whether `byte` may start a metric name (`colon`) or label name.
@inline(__always)
func isNameStart(_ byte: UInt8, allowColon: Bool) -> Bool {
    ASCII.isLetter(byte) || byte == Byte.underscore || (allowColon && byte == Byte.colon)
}

@inline(__always)
func isNameContinuation(_ byte: UInt8, allowColon: Bool) -> Bool {
    isNameStart(byte, allowColon: allowColon) || ASCII.isDigit(byte)
}

/// Mutable state of one parse; lives only for the duration of ``ExpositionParser/parse(_:)-([UInt8])``.
private struct ParseState {
    let limits: ExpositionLimits
    var families: [MetricFamily] = []
    var familyIndex: [String: Int] = [:]
    /// Families whose TYPE was declared, and families that already have samples (TYPE must come first).
    var typed: Set<String> = []
    var helped: Set<String> = []
    var seriesCount = 0
    var lineNumber = 0
    /// Metric and label names are few and repeat on every line; interning them (looked up by a hash of
    /// the bytes, so a hit allocates nothing) saves a String allocation per name.
    var internedNames: [UInt64: [(bytes: [UInt8], name: String)]] = [:]
    var internedCount = 0

    init(limits: ExpositionLimits) {
        self.limits = limits
    }

    mutating func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(ExpositionError) {
        var lineStart = 0
        let count = buffer.count
        while lineStart < count {
            lineNumber += 1
            var lineEnd = lineStart
            while lineEnd < count && buffer[lineEnd] != Byte.newline { lineEnd += 1 }
            let nextLine = lineEnd + 1
            if lineEnd > lineStart && buffer[lineEnd - 1] == Byte.carriageReturn { lineEnd -= 1 }
            try parseLine(UnsafeBufferPointer(rebasing: buffer[lineStart..<lineEnd]))
            lineStart = nextLine
        }
    }

    mutating func parseLine(_ line: UnsafeBufferPointer<UInt8>) throws(ExpositionError) {
        var cursor = Cursor(line)
        cursor.skipBlanks()
        if cursor.atEnd { return }
        if cursor.peek == Byte.hash {
            try parseComment(&cursor)
        } else {
            try parseSample(&cursor)
        }
    }

    mutating func parseComment(_ cursor: inout Cursor) throws(ExpositionError) {
        cursor.advance()  // '#'
        cursor.skipBlanks()
        let keyword = cursor.takeWhile { !ASCII.isBlank($0) }
        let isHelp = keyword.elementsEqual("HELP".utf8)
        let isType = keyword.elementsEqual("TYPE".utf8)
        guard isHelp || isType else { return }  // an ordinary comment
        guard cursor.skipBlanks() > 0 else {
            // "# HELP" alone, or "# HELPER": an ordinary comment for Prometheus as well.
            if cursor.atEnd { return }
            return
        }
        let name = try parseName(&cursor, allowColon: true, what: "metric name")
        if isType {
            guard cursor.skipBlanks() > 0 || cursor.atEnd else {
                throw .syntax(lineNumber, "invalid metric name in TYPE line")
            }
            let word = cursor.takeWhile { !ASCII.isBlank($0) }
            cursor.skipBlanks()
            guard cursor.atEnd, let type = MetricType(rawValue: String(decoding: word, as: UTF8.self)) else {
                throw .syntax(lineNumber, "unknown metric type '\(String(decoding: word, as: UTF8.self))' for \(name)")
            }
            guard !typed.contains(name) else {
                throw .syntax(lineNumber, "second TYPE line for metric name \(name)")
            }
            let index = family(named: name)
            guard families[index].samples.isEmpty else {
                throw .syntax(lineNumber, "TYPE line for \(name) after its samples")
            }
            families[index].type = type
            typed.insert(name)
        } else {
            guard cursor.atEnd || cursor.skipBlanks() > 0 else {
                throw .syntax(lineNumber, "invalid metric name in HELP line")
            }
            guard !helped.contains(name) else {
                throw .syntax(lineNumber, "second HELP line for metric name \(name)")
            }
            // CRs left at the end (a `\r\r\n` line end) belong to the line end: rendered, they would become one.
            var text = cursor.rest
            while text.last == Byte.carriageReturn { text = UnsafeBufferPointer(rebasing: text.dropLast()) }
            let help = unescapeHelp(text)
            let index = family(named: name)
            families[index].help = help
            helped.insert(name)
        }
    }

    mutating func parseSample(_ cursor: inout Cursor) throws(ExpositionError) {
        let name = try parseName(&cursor, allowColon: true, what: "metric name")
        var labels: [Label] = []
        var blanks = cursor.skipBlanks()
        if !cursor.atEnd && cursor.peek == Byte.openBrace {
            cursor.advance()
            labels = try parseLabels(&cursor)
            blanks = cursor.skipBlanks()
        }
        guard blanks > 0 else {
            throw .syntax(lineNumber, "expected a value after \(name)")
        }
        let valueBytes = cursor.takeWhile { !ASCII.isBlank($0) }
        guard let value = parseValue(valueBytes) else {
            throw .syntax(lineNumber, "invalid value '\(String(decoding: valueBytes, as: UTF8.self))' for \(name)")
        }
        cursor.skipBlanks()
        if !cursor.atEnd {
            // A timestamp: an integer in milliseconds. Prometheus drops client timestamps here, and so do we.
            let timestamp = cursor.takeWhile { !ASCII.isBlank($0) }
            guard isInteger(timestamp) else {
                throw .syntax(lineNumber, "invalid timestamp for \(name)")
            }
            cursor.skipBlanks()
            guard cursor.atEnd else {
                throw .syntax(lineNumber, "unexpected text after the timestamp of \(name)")
            }
        }
        seriesCount += 1
        if seriesCount > limits.maxSeries {
            throw .limit(lineNumber, "more than \(limits.maxSeries) series")
        }
        let index = try familyForSample(name: name, labels: labels)
        families[index].samples.append(Sample(name: name, labels: labels, value: value))
    }

    mutating func parseLabels(_ cursor: inout Cursor) throws(ExpositionError) -> [Label] {
        var labels: [Label] = []
        while true {
            cursor.skipBlanks()
            guard !cursor.atEnd else { throw .syntax(lineNumber, "unterminated label set") }
            if cursor.peek == Byte.closeBrace {
                cursor.advance()
                return labels
            }
            let labelName = try parseName(&cursor, allowColon: false, what: "label name")
            cursor.skipBlanks()
            guard !cursor.atEnd, cursor.peek == Byte.equals else {
                throw .syntax(lineNumber, "expected '=' after label name \(labelName)")
            }
            cursor.advance()
            cursor.skipBlanks()
            guard !cursor.atEnd, cursor.peek == Byte.quote else {
                throw .syntax(lineNumber, "expected '\"' to open the value of label \(labelName)")
            }
            cursor.advance()
            let labelValue = try parseQuoted(&cursor)
            if labels.contains(where: { $0.name == labelName }) {
                throw .syntax(lineNumber, "duplicate label name \(labelName)")
            }
            labels.append(Label(labelName, labelValue))
            if labels.count > limits.maxLabelsPerSeries {
                throw .limit(lineNumber, "more than \(limits.maxLabelsPerSeries) labels on one series")
            }
            cursor.skipBlanks()
            guard !cursor.atEnd else { throw .syntax(lineNumber, "unterminated label set") }
            if cursor.peek == Byte.comma {
                cursor.advance()
            } else if cursor.peek != Byte.closeBrace {
                throw .syntax(lineNumber, "expected ',' or '}' after the value of label \(labelName)")
            }
        }
    }

    /// Reads a quoted label value after its opening quote, unescaping `\\`, `\"` and `\n`.
    mutating func parseQuoted(_ cursor: inout Cursor) throws(ExpositionError) -> String {
        let start = cursor.index
        // Most values have no escapes: decode them straight from the input.
        while !cursor.atEnd && cursor.peek != Byte.quote && cursor.peek != Byte.backslash { cursor.advance() }
        guard !cursor.atEnd else { throw .syntax(lineNumber, "unterminated label value") }
        if cursor.peek == Byte.quote {
            let plain = cursor.slice(from: start)
            cursor.advance()
            return try labelValue(plain)
        }
        var bytes = Array(cursor.slice(from: start))
        var plainStart = cursor.index
        while true {
            guard !cursor.atEnd else { throw .syntax(lineNumber, "unterminated label value") }
            let byte = cursor.peek
            if byte == Byte.quote {
                bytes.append(contentsOf: cursor.slice(from: plainStart))
                cursor.advance()
                break
            }
            if byte == Byte.backslash {
                bytes.append(contentsOf: cursor.slice(from: plainStart))
                cursor.advance()
                guard !cursor.atEnd else { throw .syntax(lineNumber, "unterminated escape in label value") }
                switch cursor.peek {
                case Byte.backslash: bytes.append(Byte.backslash)
                case Byte.quote: bytes.append(Byte.quote)
                case Byte.letterN: bytes.append(Byte.newline)
                default: throw .syntax(lineNumber, "invalid escape sequence in label value")
                }
                cursor.advance()
                plainStart = cursor.index
                continue
            }
            cursor.advance()
        }
        return try bytes.withUnsafeBufferPointer { buffer throws(ExpositionError) in try labelValue(buffer) }
    }

    /// Checks the length of an unescaped label value and decodes it.
    func labelValue(_ bytes: UnsafeBufferPointer<UInt8>) throws(ExpositionError) -> String {
        if bytes.count > limits.maxLabelValueLength {
            throw .limit(lineNumber, "label value longer than \(limits.maxLabelValueLength) bytes")
        }
        // Invalid UTF-8 is repaired (U+FFFD) rather than passed through: the output must stay valid. Repairing
        // can triple the length (three bytes per invalid byte), and the limit is on what is kept and rendered.
        let value = String(decoding: bytes, as: UTF8.self)
        if value.utf8.count > limits.maxLabelValueLength {
            throw .limit(lineNumber, "label value longer than \(limits.maxLabelValueLength) bytes")
        }
        return value
    }

    mutating func parseName(_ cursor: inout Cursor, allowColon: Bool, what: String) throws(ExpositionError) -> String {
        guard !cursor.atEnd, isNameStart(cursor.peek, allowColon: allowColon) else {
            throw .syntax(lineNumber, "invalid \(what)")
        }
        let bytes = cursor.takeWhile { isNameContinuation($0, allowColon: allowColon) }
        if bytes.count > limits.maxNameLength {
            throw .limit(lineNumber, "\(what) longer than \(limits.maxNameLength) bytes")
        }
        return intern(bytes)
    }

    mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        if let bucket = internedNames[hash] {
            for entry in bucket where entry.bytes.elementsEqual(bytes) { return entry.name }
        }
        let name = String(decoding: bytes, as: UTF8.self)
        if internedCount < 4_096 {
            internedNames[hash, default: []].append((Array(bytes), name))
            internedCount += 1
        }
        return name
    }

    mutating func family(named name: String) -> Int {
        if let index = familyIndex[name] { return index }
        families.append(MetricFamily(name: name))
        familyIndex[name] = families.count - 1
        return families.count - 1
    }

    /// Finds the family a sample belongs to, following the histogram and summary suffix rules.
    mutating func familyForSample(name: String, labels: [Label]) throws(ExpositionError) -> Int {
        if let index = familyIndex[name] {
            let family = families[index]
            switch family.type {
            case .histogram:
                throw .syntax(lineNumber, "histogram sample \(name) without _bucket, _sum or _count suffix")
            case .summary:
                guard labels.contains(where: { $0.name == "quantile" }) else {
                    throw .syntax(lineNumber, "summary sample \(name) without a quantile label")
                }
                try requireFloatLabel("quantile", in: labels, sample: name)
            default:
                break
            }
            return index
        }
        for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            guard let index = familyIndex[base] else { continue }
            switch families[index].type {
            case .histogram:
                if suffix == "_bucket" {
                    guard labels.contains(where: { $0.name == "le" }) else {
                        throw .syntax(lineNumber, "histogram bucket \(name) without an le label")
                    }
                    try requireFloatLabel("le", in: labels, sample: name)
                }
                return index
            case .summary where suffix != "_bucket":
                return index
            default:
                continue
            }
        }
        return family(named: name)
    }

    func requireFloatLabel(_ label: String, in labels: [Label], sample: String) throws(ExpositionError) {
        guard let value = labels.first(where: { $0.name == label })?.value,
            parseValue(Array(value.utf8)) != nil
        else {
            throw .syntax(lineNumber, "invalid \(label) label value on \(sample)")
        }
    }
}

/// Parses a sample value as Go's `strconv.ParseFloat` does for the text format: decimal with optional
/// fraction and exponent, `NaN`, `±Inf`/`±Infinity` (any case). Hex floats, underscores, signed NaN and
/// finite literals that overflow to infinity are rejected, as Prometheus rejects them.
func parseValue(_ bytes: some Collection<UInt8>) -> Double? {
    guard !bytes.isEmpty, bytes.count <= 64 else { return nil }
    var body = bytes[...]
    let negative = body.first == 0x2D
    let signed = negative || body.first == 0x2B
    if signed { body = body.dropFirst() }
    if let first = body.first, ASCII.isLetter(first) {
        if equalsIgnoringCase(body, "inf") || equalsIgnoringCase(body, "infinity") {
            return negative ? -.infinity : .infinity
        }
        return !signed && equalsIgnoringCase(body, "nan") ? .nan : nil
    }
    // digits [. digits] [e [+-] digits], with at least one mantissa digit.
    var index = body.startIndex
    var mantissaDigits = 0
    while index < body.endIndex, ASCII.isDigit(body[index]) {
        mantissaDigits += 1
        body.formIndex(after: &index)
    }
    if index < body.endIndex, body[index] == 0x2E {
        body.formIndex(after: &index)
        while index < body.endIndex, ASCII.isDigit(body[index]) {
            mantissaDigits += 1
            body.formIndex(after: &index)
        }
    }
    guard mantissaDigits > 0 else { return nil }
    if index < body.endIndex, body[index] | 0x20 == 0x65 {
        body.formIndex(after: &index)
        if index < body.endIndex, body[index] == 0x2B || body[index] == 0x2D { body.formIndex(after: &index) }
        let exponentStart = index
        while index < body.endIndex, ASCII.isDigit(body[index]) { body.formIndex(after: &index) }
        guard index > exponentStart else { return nil }
    }
    guard index == body.endIndex, let value = Double(String(decoding: bytes, as: UTF8.self)), value.isFinite
    else { return nil }
    return value
}

private func equalsIgnoringCase(_ bytes: some Collection<UInt8>, _ word: StaticString) -> Bool {
    word.withUTF8Buffer { expected in
        bytes.count == expected.count && zip(bytes, expected).allSatisfy { $0 | 0x20 == $1 }
    }
}

/// Whether `bytes` is an integer that fits Int64, as Go's `strconv.ParseInt` requires of timestamps.
private func isInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard !bytes.isEmpty, bytes.count <= 20 else { return false }
    var digits = bytes[...]
    if digits.first == 0x2D || digits.first == 0x2B { digits = digits.dropFirst() }
    return !digits.isEmpty && digits.allSatisfy(ASCII.isDigit) && Int64(String(decoding: bytes, as: UTF8.self)) != nil
}

/// HELP text escapes only `\\` and `\n`; any other backslash is kept as written, as Prometheus does.
private func unescapeHelp(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    guard bytes.contains(Byte.backslash) else { return String(decoding: bytes, as: UTF8.self) }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var index = 0
    while index < bytes.count {
        let byte = bytes[index]
        if byte == Byte.backslash && index + 1 < bytes.count {
            let next = bytes[index + 1]
            if next == Byte.backslash {
                out.append(Byte.backslash)
                index += 2
                continue
            }
            if next == Byte.letterN {
                out.append(Byte.newline)
                index += 2
                continue
            }
        }
        out.append(byte)
        index += 1
    }
    return String(decoding: out, as: UTF8.self)
}

/// A read position in one line.
private struct Cursor {
    let line: UnsafeBufferPointer<UInt8>
    var index = 0

    init(_ line: UnsafeBufferPointer<UInt8>) {
        self.line = line
    }

    var atEnd: Bool { index >= line.count }
    var peek: UInt8 { line[index] }
    var rest: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: line[index...]) }

    mutating func advance() { index += 1 }

    @discardableResult
    mutating func skipBlanks() -> Int {
        let start = index
        while index < line.count && ASCII.isBlank(line[index]) { index += 1 }
        return index - start
    }

    mutating func takeWhile(_ predicate: (UInt8) -> Bool) -> UnsafeBufferPointer<UInt8> {
        let start = index
        while index < line.count && predicate(line[index]) { index += 1 }
        return UnsafeBufferPointer(rebasing: line[start..<index])
    }

    func slice(from start: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: line[start..<index])
    }
}
