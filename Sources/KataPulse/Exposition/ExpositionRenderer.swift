/// Renders families as text format 0.0.4, re-escaping every label value and HELP text.
///
/// The renderer never copies guest bytes through: names were validated by the parser and values are
/// re-escaped here, so a label value cannot break out of its quotes. Labels whose names start with `__`
/// are never written (node_exporter crashes on them).
public enum ExpositionRenderer {
    /// The media type of what this renderer writes.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Renders whole families, HELP and TYPE first.
    public static func render(_ families: [MetricFamily]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(families.reduce(0) { $0 + 64 + $1.samples.count * 64 })
        for family in families {
            appendHeader(name: family.name, help: family.help, type: family.type, to: &out)
            appendSamples(family.samples, to: &out)
        }
        return out
    }

    /// Appends `# HELP` (when known) and `# TYPE` lines.
    public static func appendHeader(name: String, help: String?, type: MetricType, to out: inout [UInt8]) {
        if let help {
            out.append(contentsOf: "# HELP ".utf8)
            out.append(contentsOf: name.utf8)
            out.append(0x20)
            appendEscaped(help, quotes: false, to: &out)
            out.append(0x0A)
        }
        out.append(contentsOf: "# TYPE ".utf8)
        out.append(contentsOf: name.utf8)
        out.append(0x20)
        out.append(contentsOf: type.rawValue.utf8)
        out.append(0x0A)
    }

    /// Appends one line per sample.
    public static func appendSamples(_ samples: [Sample], to out: inout [UInt8]) {
        for sample in samples {
            appendSample(sample, to: &out)
        }
    }

    /// Appends one sample line: `name{labels} value\n`.
    public static func appendSample(_ sample: Sample, to out: inout [UInt8]) {
        out.append(contentsOf: sample.name.utf8)
        var first = true
        for label in sample.labels where !label.name.hasPrefix("__") {
            out.append(first ? 0x7B : 0x2C)  // '{' or ','
            first = false
            out.append(contentsOf: label.name.utf8)
            out.append(contentsOf: "=\"".utf8)
            appendEscaped(label.value, quotes: true, to: &out)
            out.append(0x22)
        }
        if !first { out.append(0x7D) }
        out.append(0x20)
        appendValue(sample.value, to: &out)
        out.append(0x0A)
    }

    /// Escapes `\` and newline (and `"` in label values) as the text format requires.
    public static func appendEscaped(_ text: String, quotes: Bool, to out: inout [UInt8]) {
        let copied = text.utf8.withContiguousStorageIfAvailable { bytes in
            // Most text needs no escape: one copy.
            guard !bytes.contains(where: { $0 == 0x5C || $0 == 0x0A || ($0 == 0x22 && quotes) }) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied == true { return }
        for byte in text.utf8 {
            switch byte {
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
            case 0x22 where quotes: out.append(contentsOf: [0x5C, 0x22])
            default: out.append(byte)
            }
        }
    }

    /// Writes a value the way Go's `strconv.FormatFloat(v, 'g', -1, 64)` does, as client_golang and
    /// kata-monitor do: shortest round-trip digits, exponent form below 1e-4 and from 1e6 up.
    public static func appendValue(_ value: Double, to out: inout [UInt8]) {
        if appendNonFinite(value, to: &out) { return }
        if value == value.rounded(.towardZero) && abs(value) < 1e6 {
            if value == 0 && value.sign == .minus {
                out.append(contentsOf: "-0".utf8)
            } else {
                appendInteger(Int64(value), to: &out)
            }
            return
        }
        // Swift's description has the shortest round-trip digits; only their layout differs from Go's.
        var description = value.description
        description.withUTF8 { text in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digits in
                let (count, decimalPoint) = shortestDigits(text, into: digits)
                if text.first == 0x2D { out.append(0x2D) }
                let exponent = decimalPoint - 1
                if exponent < -4 || exponent >= 6 {
                    out.append(digits[0])
                    if count > 1 {
                        out.append(0x2E)
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[1..<count]))
                    }
                    out.append(0x65)  // 'e'
                    out.append(exponent < 0 ? 0x2D : 0x2B)
                    let magnitude = abs(exponent)
                    if magnitude < 10 { out.append(0x30) }
                    appendInteger(Int64(magnitude), to: &out)
                } else if decimalPoint <= 0 {
                    out.append(contentsOf: [0x30, 0x2E])
                    out.append(contentsOf: repeatElement(UInt8(0x30), count: -decimalPoint))
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[0..<count]))
                } else {
                    for index in 0..<max(decimalPoint, count) {
                        if index == decimalPoint { out.append(0x2E) }
                        out.append(index < count ? digits[index] : 0x30)
                    }
                }
            }
        }
    }

    /// Writes `NaN`, `+Inf` or `-Inf` and returns true, or returns false for a finite value.
    static func appendNonFinite(_ value: Double, to out: inout [UInt8]) -> Bool {
        if value.isNaN {
            out.append(contentsOf: "NaN".utf8)
        } else if value.isInfinite {
            out.append(contentsOf: (value > 0 ? "+Inf" : "-Inf").utf8)
        } else {
            return false
        }
        return true
    }

    static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value == 0 {
            out.append(0x30)
            return
        }
        if value < 0 { out.append(0x2D) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { reversed in
            var count = 0
            while magnitude > 0 {
                reversed[count] = UInt8(truncatingIfNeeded: magnitude % 10) + 0x30
                magnitude /= 10
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(reversed[index]) }
        }
    }

    /// Reads a finite value's description (`-1.5e-07`, `123.25`, `1e+16`) into its significant digits (no
    /// leading or trailing zeros) and the position of the decimal point among them.
    static func shortestDigits(_ text: UnsafeBufferPointer<UInt8>, into digits: UnsafeMutableBufferPointer<UInt8>)
        -> (count: Int, decimalPoint: Int)
    {
        var index = text.first == 0x2D ? 1 : 0
        var count = 0
        var pointPosition: Int?
        var exponent = 0
        while index < text.count {
            let byte = text[index]
            if byte == 0x2E {
                pointPosition = count
            } else if byte == 0x65 || byte == 0x45 {
                var position = index + 1
                let negative = position < text.count && text[position] == 0x2D
                if position < text.count && (text[position] == 0x2D || text[position] == 0x2B) { position += 1 }
                while position < text.count {
                    exponent = exponent * 10 + Int(text[position] &- 0x30)
                    position += 1
                }
                if negative { exponent = -exponent }
                break
            } else if count < digits.count {
                digits[count] = byte
                count += 1
            }
            index += 1
        }
        var point = (pointPosition ?? count) + exponent
        var start = 0
        while start < count - 1 && digits[start] == 0x30 {
            start += 1
            point -= 1
        }
        var end = count
        while end > start + 1 && digits[end - 1] == 0x30 { end -= 1 }
        if start > 0 {
            for offset in 0..<(end - start) { digits[offset] = digits[start + offset] }
        }
        return (end - start, point)
    }
}
