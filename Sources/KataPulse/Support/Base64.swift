/// Standard base64 (RFC 4648 §4, padded), decoded strictly as Go's `base64.StdEncoding` does: for the
/// credentials of `Authorization: Basic`.
enum Base64 {
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
