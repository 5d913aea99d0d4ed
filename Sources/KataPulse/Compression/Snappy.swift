import CSnappy

/// Snappy block compression through the system's libsnappy: the body encoding of Prometheus remote write
/// (`Content-Encoding: snappy` is the block format, not the framed stream format).
enum Snappy {
    /// Why a block could not be uncompressed.
    struct CorruptBlock: Error, Equatable {}

    static func compress(_ input: [UInt8]) -> [UInt8] {
        var length = snappy_max_compressed_length(input.count)
        var output = [UInt8](repeating: 0, count: length)
        let status = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                source.withMemoryRebound(to: CChar.self) { source in
                    target.withMemoryRebound(to: CChar.self) { target in
                        snappy_compress(source.baseAddress, source.count, target.baseAddress, &length)
                    }
                }
            }
        }
        // The output is sized by snappy_max_compressed_length, the one failure snappy_compress reports.
        precondition(status == SNAPPY_OK, "snappy_compress: \(status)")
        output.removeSubrange(length...)
        return output
    }

    /// The block's original bytes; throws for anything libsnappy does not validate, or longer than `limit`.
    static func uncompress(_ input: [UInt8], limit: Int = 256 * 1024 * 1024) throws(CorruptBlock) -> [UInt8] {
        try input.withUnsafeBufferPointer { source throws(CorruptBlock) in
            try source.withMemoryRebound(to: CChar.self) { source throws(CorruptBlock) in
                var length = 0
                guard snappy_uncompressed_length(source.baseAddress, source.count, &length) == SNAPPY_OK,
                    length <= limit
                else { throw CorruptBlock() }
                var output = [UInt8](repeating: 0, count: length)
                let status = output.withUnsafeMutableBufferPointer { target in
                    target.withMemoryRebound(to: CChar.self) { target in
                        snappy_uncompress(source.baseAddress, source.count, target.baseAddress, &length)
                    }
                }
                guard status == SNAPPY_OK else { throw CorruptBlock() }
                output.removeSubrange(length...)
                return output
            }
        }
    }
}
