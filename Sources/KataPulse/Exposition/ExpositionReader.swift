import Glibc

/// Receives what ``ExpositionReader`` reads from a body, in order, each line already validated.
///
/// Families are numbered in order of first appearance (a HELP, TYPE or sample line naming them). A consumer
/// decides what to keep: ``FamilyBuilder`` makes ``MetricFamily`` values, `SandboxRenderer` writes the
/// published rendering straight from the body's bytes.
protocol ExpositionConsumer {
    /// Family number `count so far` begins, under `name`.
    mutating func beginFamily(named name: String)
    mutating func setHelp(_ help: String, of family: Int)
    /// Always before the family's first sample.
    mutating func setType(_ type: MetricType, of family: Int)
    mutating func addSample(_ sample: SampleLine, to family: Int)
}

/// One label of a sample line, as positions in the body.
struct LabelSpan {
    var name: Range<Int>
    /// The value as written, between its quotes, escapes included.
    var value: Range<Int>
    /// Whether the value holds `\\`, `\"` or `\n` escapes.
    var escaped: Bool
    /// Whether the unescaped value is valid UTF-8; if not, decoding repairs it (U+FFFD).
    var validUTF8: Bool
}

/// One validated sample line, as positions in the body.
struct SampleLine {
    let body: UnsafeBufferPointer<UInt8>
    /// The sample's name as written, and the same interned.
    let name: Range<Int>
    let nameString: String
    /// Labels in the order written; names are unique.
    let labels: [LabelSpan]
    /// The value as written; it parses (``parseValue(_:)``).
    let value: Range<Int>
    /// Whether the value is written exactly as ``ExpositionRenderer/appendValue(_:to:)`` would write it.
    let valueIsCanonical: Bool

    func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: body[range])
    }

    /// The sample's value as a number.
    var number: Double { parseValue(bytes(value))! }

    /// A label's value, unescaped (through `scratch`) and decoded (invalid UTF-8 repaired).
    func value(of label: LabelSpan, scratch: inout [UInt8]) -> String {
        guard label.escaped else { return String(decoding: bytes(label.value), as: UTF8.self) }
        unescapeLabelValue(bytes(label.value), into: &scratch)
        return String(decoding: scratch, as: UTF8.self)
    }
}

/// A byte-level reader of the Prometheus text exposition format 0.0.4.
///
/// It accepts what Prometheus' own text parser accepts (HELP, TYPE, comments, escaped label values,
/// NaN/±Inf/exponents, optional timestamps, `\r\n` line ends), drops timestamps, and rejects everything
/// else with a line number. It runs in time linear in the input, never traps on any input, and allocates
/// per distinct name, not per line.
struct ExpositionReader<Consumer: ExpositionConsumer> {
    let limits: ExpositionLimits
    var consumer: Consumer
    private var names = NameTable()
    /// The family of each interned name, or -1.
    private var familyOfName: [Int] = []
    /// For a sample name that belongs to a histogram or summary by its suffix (`foo_bucket` → `foo`): that
    /// family's number × 2, + 1 when it is a histogram bucket (which needs `le`); -1 until resolved. The base
    /// family has samples by then, so its type can no longer change and the route stays right.
    private var suffixRoute: [Int] = []
    private var families: [FamilyState] = []
    private var seriesCount = 0
    private var lineNumber = 0
    private var labels: [LabelSpan] = []
    private var unescaped: [UInt8] = []
    /// The body being read; every position is in it.
    private var body = UnsafeBufferPointer<UInt8>(start: nil, count: 0)

    private struct FamilyState {
        var type = MetricType.untyped
        var typed = false
        var helped = false
        var hasSamples = false
    }

    init(limits: ExpositionLimits, consumer: Consumer) {
        self.limits = limits
        self.consumer = consumer
    }

    mutating func read(_ body: UnsafeBufferPointer<UInt8>) throws(ExpositionError) {
        guard let base = body.baseAddress else { return }
        self.body = body
        var lineStart = 0
        let count = body.count
        while lineStart < count {
            lineNumber += 1
            var lineEnd = count
            if let newline = memchr(base + lineStart, Int32(Byte.newline), count - lineStart) {
                lineEnd = base.distance(to: newline.assumingMemoryBound(to: UInt8.self))
            }
            let nextLine = lineEnd + 1
            if lineEnd > lineStart && body[lineEnd - 1] == Byte.carriageReturn { lineEnd -= 1 }
            var cursor = Cursor(body: body, index: lineStart, end: lineEnd)
            cursor.skipBlanks()
            if !cursor.atEnd {
                if cursor.peek == Byte.hash {
                    try readComment(&cursor)
                } else {
                    try readSample(&cursor)
                }
            }
            lineStart = nextLine
        }
    }

    private mutating func readComment(_ cursor: inout Cursor) throws(ExpositionError) {
        cursor.advance()  // '#'
        cursor.skipBlanks()
        let keyword = cursor.bytes(cursor.takeWhile { !ASCII.isBlank($0) })
        let isHelp = keyword.elementsEqual("HELP".utf8)
        let isType = keyword.elementsEqual("TYPE".utf8)
        guard isHelp || isType else { return }  // an ordinary comment
        // "# HELP" alone, or "# HELPER": an ordinary comment for Prometheus as well.
        guard cursor.skipBlanks() > 0 else { return }
        let nameID = try readName(&cursor, allowColon: true, what: "metric name")
        let name = names.strings[nameID]
        if isType {
            guard cursor.skipBlanks() > 0 || cursor.atEnd else {
                throw .syntax(lineNumber, "invalid metric name in TYPE line")
            }
            let word = cursor.bytes(cursor.takeWhile { !ASCII.isBlank($0) })
            cursor.skipBlanks()
            guard cursor.atEnd, let type = MetricType(rawValue: String(decoding: word, as: UTF8.self)) else {
                throw .syntax(lineNumber, "unknown metric type '\(String(decoding: word, as: UTF8.self))' for \(name)")
            }
            let index = family(named: nameID)
            guard !families[index].typed else {
                throw .syntax(lineNumber, "second TYPE line for metric name \(name)")
            }
            guard !families[index].hasSamples else {
                throw .syntax(lineNumber, "TYPE line for \(name) after its samples")
            }
            families[index].type = type
            families[index].typed = true
            consumer.setType(type, of: index)
        } else {
            guard cursor.atEnd || cursor.skipBlanks() > 0 else {
                throw .syntax(lineNumber, "invalid metric name in HELP line")
            }
            let index = family(named: nameID)
            guard !families[index].helped else {
                throw .syntax(lineNumber, "second HELP line for metric name \(name)")
            }
            // CRs left at the end (a `\r\r\n` line end) belong to the line end: rendered, they would become one.
            var text = cursor.bytes(cursor.index..<cursor.end)
            while text.last == Byte.carriageReturn { text = UnsafeBufferPointer(rebasing: text.dropLast()) }
            families[index].helped = true
            consumer.setHelp(unescapeHelp(text), of: index)
        }
    }

    private mutating func readSample(_ cursor: inout Cursor) throws(ExpositionError) {
        let nameStart = cursor.index
        let nameID = try readName(&cursor, allowColon: true, what: "metric name")
        let name = nameStart..<cursor.index
        labels.removeAll(keepingCapacity: true)
        var blanks = cursor.skipBlanks()
        if !cursor.atEnd && cursor.peek == Byte.openBrace {
            cursor.advance()
            try readLabels(&cursor)
            blanks = cursor.skipBlanks()
        }
        guard blanks > 0 else {
            throw .syntax(lineNumber, "expected a value after \(names.strings[nameID])")
        }
        let value: Range<Int>
        let canonical: Bool
        switch readSampleTail(cursor.body, from: cursor.index, to: cursor.end) {
        case .value(let range, let isCanonical): (value, canonical) = (range, isCanonical)
        case .invalidValue(let range):
            let text = String(decoding: cursor.bytes(range), as: UTF8.self)
            throw .syntax(lineNumber, "invalid value '\(text)' for \(names.strings[nameID])")
        case .invalidTimestamp: throw .syntax(lineNumber, "invalid timestamp for \(names.strings[nameID])")
        case .textAfterTimestamp:
            throw .syntax(lineNumber, "unexpected text after the timestamp of \(names.strings[nameID])")
        }
        seriesCount += 1
        if seriesCount > limits.maxSeries {
            throw .limit(lineNumber, "more than \(limits.maxSeries) series")
        }
        let index = try familyForSample(nameID: nameID, name: cursor.bytes(name))
        families[index].hasSamples = true
        consumer.addSample(
            SampleLine(
                body: cursor.body, name: name, nameString: names.strings[nameID], labels: labels, value: value,
                valueIsCanonical: canonical),
            to: index)
    }

    private mutating func readLabels(_ cursor: inout Cursor) throws(ExpositionError) {
        while true {
            cursor.skipBlanks()
            guard !cursor.atEnd else { throw .syntax(lineNumber, "unterminated label set") }
            if cursor.peek == Byte.closeBrace {
                cursor.advance()
                return
            }
            let labelName = try readLabelName(&cursor)
            cursor.skipBlanks()
            guard !cursor.atEnd, cursor.peek == Byte.equals else {
                throw .syntax(lineNumber, "expected '=' after label name \(text(labelName, cursor))")
            }
            cursor.advance()
            cursor.skipBlanks()
            guard !cursor.atEnd, cursor.peek == Byte.quote else {
                throw .syntax(lineNumber, "expected '\"' to open the value of label \(text(labelName, cursor))")
            }
            cursor.advance()
            var label = try readQuoted(&cursor)
            label.name = labelName
            let body = cursor.body
            if labels.contains(where: { equalBytes(body, $0.name, labelName) }) {
                throw .syntax(lineNumber, "duplicate label name \(text(labelName, cursor))")
            }
            labels.append(label)
            if labels.count > limits.maxLabelsPerSeries {
                throw .limit(lineNumber, "more than \(limits.maxLabelsPerSeries) labels on one series")
            }
            cursor.skipBlanks()
            guard !cursor.atEnd else { throw .syntax(lineNumber, "unterminated label set") }
            if cursor.peek == Byte.comma {
                cursor.advance()
            } else if cursor.peek != Byte.closeBrace {
                throw .syntax(lineNumber, "expected ',' or '}' after the value of label \(text(labelName, cursor))")
            }
        }
    }

    private func text(_ range: Range<Int>, _ cursor: Cursor) -> String {
        String(decoding: cursor.bytes(range), as: UTF8.self)
    }

    /// Reads a quoted label value after its opening quote; the returned span's name is not yet set.
    private mutating func readQuoted(_ cursor: inout Cursor) throws(ExpositionError) -> LabelSpan {
        let start = cursor.index
        var escapes = 0
        var ascii = true
        while true {
            // Most values have no escapes and are ASCII: one pass over them.
            while !cursor.atEnd {
                let byte = cursor.peek
                if byte == Byte.quote || byte == Byte.backslash { break }
                if byte >= 0x80 { ascii = false }
                cursor.advance()
            }
            guard !cursor.atEnd else { throw .syntax(lineNumber, "unterminated label value") }
            if cursor.peek == Byte.quote { break }
            cursor.advance()  // '\'
            guard !cursor.atEnd else { throw .syntax(lineNumber, "unterminated escape in label value") }
            switch cursor.peek {
            case Byte.backslash, Byte.quote, Byte.letterN: escapes += 1
            default: throw .syntax(lineNumber, "invalid escape sequence in label value")
            }
            cursor.advance()
        }
        let raw = start..<cursor.index
        cursor.advance()  // closing quote
        if raw.count - escapes > limits.maxLabelValueLength {
            throw .limit(lineNumber, "label value longer than \(limits.maxLabelValueLength) bytes")
        }
        var valid = true
        if !ascii {
            // Invalid UTF-8 is repaired (U+FFFD) rather than passed through: the output must stay valid. Repairing
            // can triple the length (three bytes per invalid byte), and the limit is on what is kept and rendered.
            let value: String
            if escapes > 0 {
                unescapeLabelValue(cursor.bytes(raw), into: &unescaped)
                value = String(decoding: unescaped, as: UTF8.self)
                valid = value.utf8.elementsEqual(unescaped)
            } else {
                value = String(decoding: cursor.bytes(raw), as: UTF8.self)
                valid = value.utf8.elementsEqual(cursor.bytes(raw))
            }
            if value.utf8.count > limits.maxLabelValueLength {
                throw .limit(lineNumber, "label value longer than \(limits.maxLabelValueLength) bytes")
            }
        }
        return LabelSpan(name: raw, value: raw, escaped: escapes > 0, validUTF8: valid)
    }

    private mutating func readName(_ cursor: inout Cursor, allowColon: Bool, what: String) throws(ExpositionError)
        -> Int
    {
        let range = try readNameBytes(&cursor, allowColon: allowColon, what: what)
        let id = names.intern(cursor.bytes(range))
        if id == familyOfName.count {
            familyOfName.append(-1)
            suffixRoute.append(-1)
        }
        return id
    }

    private func readLabelName(_ cursor: inout Cursor) throws(ExpositionError) -> Range<Int> {
        try readNameBytes(&cursor, allowColon: false, what: "label name")
    }

    private func readNameBytes(_ cursor: inout Cursor, allowColon: Bool, what: String) throws(ExpositionError)
        -> Range<Int>
    {
        guard !cursor.atEnd, isNameStart(cursor.peek, allowColon: allowColon) else {
            throw .syntax(lineNumber, "invalid \(what)")
        }
        let range = cursor.takeWhile { isNameContinuation($0, allowColon: allowColon) }
        if range.count > limits.maxNameLength {
            throw .limit(lineNumber, "\(what) longer than \(limits.maxNameLength) bytes")
        }
        return range
    }

    private mutating func family(named nameID: Int) -> Int {
        let known = familyOfName[nameID]
        if known >= 0 { return known }
        families.append(FamilyState())
        familyOfName[nameID] = families.count - 1
        consumer.beginFamily(named: names.strings[nameID])
        return families.count - 1
    }

    /// Finds the family a sample belongs to, following the histogram and summary suffix rules.
    private mutating func familyForSample(nameID: Int, name: UnsafeBufferPointer<UInt8>) throws(ExpositionError)
        -> Int
    {
        let known = familyOfName[nameID]
        if known >= 0 {
            switch families[known].type {
            case .histogram:
                throw .syntax(
                    lineNumber, "histogram sample \(names.strings[nameID]) without _bucket, _sum or _count suffix")
            case .summary:
                try requireFloatLabel("quantile", nameID: nameID, kind: "summary sample", article: "a")
            default:
                break
            }
            return known
        }
        let route = suffixRoute[nameID]
        if route >= 0 {
            if route & 1 == 1 { try requireFloatLabel("le", nameID: nameID, kind: "histogram bucket", article: "an") }
            return route >> 1
        }
        for suffix in sampleSuffixes where name.count > suffix.count && name.suffix(suffix.count).elementsEqual(suffix)
        {
            guard let baseID = names.lookup(UnsafeBufferPointer(rebasing: name.dropLast(suffix.count))),
                familyOfName[baseID] >= 0
            else { continue }
            let index = familyOfName[baseID]
            switch families[index].type {
            case .histogram:
                let bucket = suffix == sampleSuffixes[0]
                if bucket { try requireFloatLabel("le", nameID: nameID, kind: "histogram bucket", article: "an") }
                suffixRoute[nameID] = index << 1 | (bucket ? 1 : 0)
                return index
            case .summary where suffix != sampleSuffixes[0]:
                suffixRoute[nameID] = index << 1
                return index
            default:
                continue
            }
        }
        return family(named: nameID)
    }

    /// Checks that `label` is present and a float, as histogram buckets (`le`) and summary quantiles need.
    private func requireFloatLabel(_ label: StaticString, nameID: Int, kind: String, article: String)
        throws(ExpositionError)
    {
        let name = names.strings[nameID]
        guard let span = labels.first(where: { $0.name.count == label.utf8CodeUnitCount && matches($0.name, label) })
        else { throw .syntax(lineNumber, "\(kind) \(name) without \(article) \(label) label") }
        // An escape leaves `\`, `"` or a newline in the value and a repaired value holds U+FFFD: neither is a float.
        guard span.validUTF8, !span.escaped, parseValue(UnsafeBufferPointer(rebasing: body[span.value])) != nil else {
            throw .syntax(lineNumber, "invalid \(label) label value on \(name)")
        }
    }

    private func matches(_ range: Range<Int>, _ word: StaticString) -> Bool {
        word.withUTF8Buffer { expected in UnsafeBufferPointer(rebasing: body[range]).elementsEqual(expected) }
    }
}

/// The suffixes that put a sample in a histogram or summary family, in the order they are tried.
private let sampleSuffixes: [[UInt8]] = [Array("_bucket".utf8), Array("_count".utf8), Array("_sum".utf8)]

private enum Byte {
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
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
private func isNameStart(_ byte: UInt8, allowColon: Bool) -> Bool {
    ASCII.isLetter(byte) || byte == Byte.underscore || (allowColon && byte == Byte.colon)
}

@inline(__always)
private func isNameContinuation(_ byte: UInt8, allowColon: Bool) -> Bool {
    isNameStart(byte, allowColon: allowColon) || ASCII.isDigit(byte)
}

/// Whether two ranges of `body` hold the same bytes.
@inline(__always)
func equalBytes(_ body: UnsafeBufferPointer<UInt8>, _ lhs: Range<Int>, _ rhs: Range<Int>) -> Bool {
    lhs.count == rhs.count
        && (lhs.isEmpty
            || memcmp(body.baseAddress! + lhs.lowerBound, body.baseAddress! + rhs.lowerBound, lhs.count) == 0)
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

/// Whether a value is written exactly as ``ExpositionRenderer/appendValue(_:to:)`` writes the number it
/// parses to (Go's `strconv.FormatFloat(v, 'g', -1, 64)`), so that it can be copied through unchanged.
///
/// Only finite values of at most 15 significant digits qualify: any such decimal is the shortest that reads
/// back as its double (a double holds 15 decimal digits exactly), so the renderer would choose the same digits.
/// The form must then be Go's: no `+`, no leading zeros, no trailing fraction zeros, an exponent (`e±dd`)
/// exactly when the decimal exponent is below -4 or from 6 up.
func isCanonicalValue(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
    var index = 0
    let count = text.count
    if index < count && text[index] == 0x2D { index += 1 }
    guard index < count, ASCII.isDigit(text[index]) else { return false }
    if text[index] == 0x30 {
        // 0, or 0.000ddd down to 1e-4 (a smaller value takes an exponent).
        index += 1
        if index == count { return true }
        guard text[index] == 0x2E else { return false }
        index += 1
        var zeros = 0
        while index < count && text[index] == 0x30 {
            zeros += 1
            index += 1
        }
        guard zeros <= 3 else { return false }
        return fractionDigits(text, from: index, significant: 0, requireOne: true)
    }
    let integerStart = index
    while index < count && ASCII.isDigit(text[index]) { index += 1 }
    let integerDigits = index - integerStart
    if index == count { return integerDigits <= 6 }
    if text[index] == 0x2E {
        if integerDigits == 1, let exponent = exponentPart(text, mantissaEnd: index) {
            // d.ddde±xx
            return fractionDigits(text, from: index + 1, to: exponent, significant: 1, requireOne: true)
        }
        guard integerDigits <= 6 else { return false }
        return fractionDigits(text, from: index + 1, significant: integerDigits, requireOne: true)
    }
    // de±xx
    return integerDigits == 1 && exponentPart(text, mantissaEnd: index) == index
}

/// Checks `text[from..<to]` (to the end by default) is digits ending in a non-zero one, within 15 significant.
private func fractionDigits(
    _ text: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int? = nil, significant: Int, requireOne: Bool
) -> Bool {
    let end = end ?? text.count
    guard end > start || !requireOne else { return false }
    var index = start
    while index < end {
        guard ASCII.isDigit(text[index]) else { return false }
        index += 1
    }
    return text[end - 1] != 0x30 && significant + (end - start) <= 15
}

/// Finds a canonical exponent (`e-05`, `e+06`, `e+123`) that ends the text, and returns where it starts; the
/// exponent must be one Go writes in that form (below -4, or from 6 up) and far from the subnormal range.
private func exponentPart(_ text: UnsafeBufferPointer<UInt8>, mantissaEnd: Int) -> Int? {
    var index = mantissaEnd
    while index < text.count && text[index] != 0x65 { index += 1 }
    let start = index
    guard index + 3 < text.count + 0, text[index] == 0x65 else { return nil }
    let negative = text[index + 1] == 0x2D
    guard negative || text[index + 1] == 0x2B else { return nil }
    index += 2
    let digits = text.count - index
    guard digits == 2 || (digits == 3 && text[index] != 0x30) else { return nil }
    var exponent = 0
    while index < text.count {
        guard ASCII.isDigit(text[index]) else { return nil }
        exponent = exponent * 10 + Int(text[index] - 0x30)
        index += 1
    }
    guard negative ? (exponent > 4 && exponent <= 300) : (exponent >= 6 && exponent <= 300) else { return nil }
    return start
}

private func equalsIgnoringCase(_ bytes: some Collection<UInt8>, _ word: StaticString) -> Bool {
    word.withUTF8Buffer { expected in
        bytes.count == expected.count && zip(bytes, expected).allSatisfy { $0 | 0x20 == $1 }
    }
}

/// The end of a sample line, from its value to the line's end, as ``readSampleTail(_:from:to:)`` reads it.
enum SampleTail {
    /// The value, and whether it is written as ``ExpositionRenderer/appendValue(_:to:)`` writes it.
    case value(Range<Int>, canonical: Bool)
    case invalidValue(Range<Int>)
    case invalidTimestamp
    case textAfterTimestamp
}

/// Reads a sample line's value and optional timestamp (dropped, as Prometheus drops client timestamps) from
/// `start`, where the value begins, to `end`, the line's end without its CR. The reader and ``BodyShape`` read
/// a line's end the same way.
func readSampleTail(_ body: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> SampleTail {
    var cursor = Cursor(body: body, index: start, end: end)
    let value = cursor.takeWhile { !ASCII.isBlank($0) }
    let canonical = isCanonicalValue(cursor.bytes(value))
    guard canonical || parseValue(cursor.bytes(value)) != nil else { return .invalidValue(value) }
    cursor.skipBlanks()
    if !cursor.atEnd {
        // A timestamp: an integer in milliseconds.
        guard isInteger(cursor.bytes(cursor.takeWhile { !ASCII.isBlank($0) })) else { return .invalidTimestamp }
        cursor.skipBlanks()
        guard cursor.atEnd else { return .textAfterTimestamp }
    }
    return .value(value, canonical: canonical)
}

/// Whether `bytes` is an integer that fits Int64, as Go's `strconv.ParseInt` requires of timestamps.
private func isInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard !bytes.isEmpty, bytes.count <= 20 else { return false }
    var digits = bytes[...]
    if digits.first == 0x2D || digits.first == 0x2B { digits = digits.dropFirst() }
    return !digits.isEmpty && digits.allSatisfy(ASCII.isDigit) && Int64(String(decoding: bytes, as: UTF8.self)) != nil
}

/// Writes a label value without its escapes (`\\`, `\"`, `\n`, already validated) into `out`.
func unescapeLabelValue(_ raw: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
    out.removeAll(keepingCapacity: true)
    var index = 0
    while index < raw.count {
        let byte = raw[index]
        if byte == Byte.backslash && index + 1 < raw.count {
            let next = raw[index + 1]
            out.append(next == Byte.letterN ? Byte.newline : next)
            index += 2
        } else {
            out.append(byte)
            index += 1
        }
    }
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

/// A read position in one line of the body.
private struct Cursor {
    let body: UnsafeBufferPointer<UInt8>
    var index: Int
    let end: Int

    var atEnd: Bool { index >= end }
    var peek: UInt8 { body[index] }

    mutating func advance() { index += 1 }

    @discardableResult
    mutating func skipBlanks() -> Int {
        let start = index
        while index < end && ASCII.isBlank(body[index]) { index += 1 }
        return index - start
    }

    mutating func takeWhile(_ predicate: (UInt8) -> Bool) -> Range<Int> {
        let start = index
        while index < end && predicate(body[index]) { index += 1 }
        return start..<index
    }

    func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: body[range])
    }
}
