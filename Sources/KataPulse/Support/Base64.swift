/// Standard base64 (RFC 4648 §4, padded), decoded strictly as Go's `base64.StdEncoding` does: for the
/// credentials of `Authorization: Basic`; encoded in either alphabet (§5's URL-safe one for the Pushgateway).
enum Base64 {
    /// `bytes` in padded base64, in the URL-safe alphabet (`-`, `_`) when `urlSafe`.
    static func encode(_ bytes: [UInt8], urlSafe: Bool = false) -> String {
        let alphabet = Array(
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + (urlSafe ? "-_" : "+/")).utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { value |= UInt32(byte) << (16 - 8 * UInt32(offset)) }
            for position in 0..<4 {
                out.append(
                    position <= chunk.count
                        ? alphabet[Int((value >> (18 - 6 * UInt32(position))) & 0x3F)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = Int8(index)
        }
        return table
    }()

    /// The decoded bytes, or nil when `text` is not padded base64 (wrong length, a stray character, padding
    /// inside). Bits after the last byte are ignored, as Go ignores them.
    static func decode<Bytes: Collection<UInt8>>(_ text: Bytes) -> [UInt8]? {
        let input = Array(text)
        guard input.count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            let isLast = index + 4 == input.count
            var quantum: UInt32 = 0
            var padding = 0
            for offset in 0..<4 {
                let byte = input[index + offset]
                if byte == UInt8(ascii: "="), isLast, offset >= 2 {
                    padding += 1
                    quantum <<= 6
                    continue
                }
                let value = values[Int(byte)]
                // Data after padding ("ab=c") is not padding.
                guard value >= 0, padding == 0 else { return nil }
                quantum = quantum << 6 | UInt32(value)
            }
            let bytes = [UInt8(quantum >> 16 & 0xFF), UInt8(quantum >> 8 & 0xFF), UInt8(quantum & 0xFF)]
            output.append(contentsOf: bytes.prefix(3 - padding))
            index += 4
        }
        return output
    }
}
