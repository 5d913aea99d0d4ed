import CZlib
import NIOCore

/// A raw DEFLATE stream compressed on its own, ready to be stitched into a gzip member.
///
/// A non-final segment ends on a full flush (byte-aligned, no back-references into it), so segments
/// compressed independently can follow one another inside one gzip member. This is how `/metrics` adds
/// its few per-request lines in front of the body compressed once per collection round.
public struct DeflateSegment: Sendable {
    /// Raw DEFLATE bytes (no zlib or gzip framing), ready to send.
    public let buffer: ByteBuffer
    /// CRC-32 of the uncompressed bytes.
    public let crc: UInt32
    /// Length of the uncompressed bytes.
    public let length: Int
    /// Whether this segment ends the DEFLATE stream.
    public let isFinal: Bool

    /// The compressed bytes as an array (a copy; for tests and small segments).
    public var bytes: [UInt8] { Array(buffer.readableBytesView) }

    /// Compresses `data`; `isFinal` segments end the stream, others end on a full flush.
    public init(compressing data: [UInt8], isFinal: Bool, level: Int32 = Z_DEFAULT_COMPRESSION) {
        self.init(compressing: [ByteBuffer(bytes: data)], isFinal: isFinal, level: level)
    }

    private init(buffer: ByteBuffer, crc: UInt32, length: Int, isFinal: Bool) {
        self.buffer = buffer
        self.crc = crc
        self.length = length
        self.isFinal = isFinal
    }

    /// `data` in stored (uncompressed) DEFLATE blocks, none final (RFC 1951, 3.2.4: a block header byte,
    /// then the length and its complement): the few kilobytes `/metrics` adds per request gain little from
    /// compression, and framing them needs no compressor (zlib's state is ~270 KiB to set up per request).
    public static func stored(_ data: [UInt8]) -> DeflateSegment {
        var buffer = ByteBufferAllocator().buffer(capacity: data.count + (data.count / 65_535 + 1) * 5)
        var start = 0
        while start < data.count {
            let length = min(65_535, data.count - start)
            // BFINAL 0, BTYPE 00, padding to the byte boundary (a stored block starts and ends aligned).
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt16(length), endianness: .little)
            buffer.writeInteger(~UInt16(length), endianness: .little)
            buffer.writeBytes(data[start..<start + length])
            start += length
        }
        let crc = data.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        return DeflateSegment(buffer: buffer, crc: crc, length: data.count, isFinal: false)
    }

    /// Compresses the concatenation of `parts` in one stream, without joining them first: the snapshot's
    /// body exists once, as slices of each sandbox's rendering.
    public init(compressing parts: [ByteBuffer], isFinal: Bool, level: Int32 = Z_DEFAULT_COMPRESSION) {
        var stream = z_stream()
        // Negative windowBits: raw DEFLATE; 15 and memory level 8 are zlib's defaults.
        let initResult = katapulse_deflateInit2(&stream, level, -15, 8)
        precondition(initResult == Z_OK, "deflateInit2 failed: \(initResult)")
        defer { deflateEnd(&stream) }
        let total = parts.reduce(0) { $0 + $1.readableBytes }
        // Prometheus text compresses ~20:1; the buffer grows if a body compresses worse.
        var output = ByteBufferAllocator().buffer(capacity: max(4_096, total / 16))
        var crc: uLong = 0
        /// Runs deflate over what `stream.next_in` holds, with `flush`, until it needs more input (or, for a
        /// flush, until it has written everything).
        func run(_ flush: Int32) {
            while true {
                var status: Int32 = Z_OK
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: 64 * 1024) { out in
                    stream.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(out.count)
                    status = deflate(&stream, flush)
                    return out.count - Int(stream.avail_out)
                }
                precondition(
                    status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR, "deflate failed: \(status)")
                if status == Z_STREAM_END { return }
                // With room left over, deflate has consumed all input and (for a full flush) written all
                // output; finishing is done only when it says so.
                if flush != Z_FINISH && stream.avail_out > 0 && stream.avail_in == 0 { return }
            }
        }
        for part in parts where part.readableBytes > 0 {
            part.withUnsafeReadableBytes { input in
                let bytes = input.bindMemory(to: Bytef.self)
                crc = crc32(crc, bytes.baseAddress, uInt(bytes.count))
                stream.next_in = UnsafeMutablePointer(mutating: bytes.baseAddress)
                stream.avail_in = uInt(bytes.count)
                run(Z_NO_FLUSH)
            }
        }
        stream.next_in = nil
        stream.avail_in = 0
        run(isFinal ? Z_FINISH : Z_FULL_FLUSH)
        self.buffer = output
        self.crc = UInt32(crc)
        self.length = total
        self.isFinal = isFinal
    }
}

/// gzip framing (RFC 1952) around DEFLATE segments, and a one-shot decompressor for tests and clients.
public enum Gzip {
    /// The 10-byte gzip member header (no name, no timestamp, OS unknown/Unix).
    public static let header: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]

    /// One gzip member holding `segments` in order; the last one must be final.
    public static func member(_ segments: [DeflateSegment]) -> [UInt8] {
        Array(memberParts(segments).joined.readableBytesView)
    }

    /// The buffers of one gzip member holding `segments`, to send as they are: the header, each segment's
    /// bytes (a cached segment is not copied), the trailer.
    public static func memberParts(_ segments: [DeflateSegment]) -> [ByteBuffer] {
        [ByteBuffer(bytes: header)] + segments.map(\.buffer) + [ByteBuffer(bytes: trailer(segments))]
    }

    /// The 8-byte trailer closing a member made of `segments`: their combined CRC-32 and length.
    ///
    public static func trailer(_ segments: [DeflateSegment]) -> [UInt8] {
        precondition(segments.last?.isFinal == true, "the last DEFLATE segment must be final")
        var crc: UInt32 = 0
        var length = 0
        for (index, segment) in segments.enumerated() {
            crc =
                index == 0 ? segment.crc : UInt32(crc32_combine(uLong(crc), uLong(segment.crc), off_t(segment.length)))
            length &+= segment.length
        }
        var out: [UInt8] = []
        appendLittleEndian(crc, to: &out)
        appendLittleEndian(UInt32(truncatingIfNeeded: length), to: &out)
        return out
    }

    /// gzip-compresses `data` in one member.
    public static func compress(_ data: [UInt8]) -> [UInt8] {
        member([DeflateSegment(compressing: data, isFinal: true)])
    }

    /// Decompresses a gzip body (all members); `nil` if it is not valid gzip or exceeds `limit`.
    public static func decompress(_ data: [UInt8], limit: Int = 1 << 30) -> [UInt8]? {
        var stream = z_stream()
        // windowBits 15 + 32: zlib or gzip with automatic header detection.
        guard katapulse_inflateInit2(&stream, 15 + 32) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        return data.withUnsafeBufferPointer { input -> [UInt8]? in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { buffer -> (Int32, Int) in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = uInt(buffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, buffer.count - Int(stream.avail_out))
                }
                out.append(contentsOf: chunk[0..<produced])
                guard out.count <= limit else { return nil }
                if status == Z_STREAM_END {
                    if stream.avail_in == 0 { return out }
                    // Another member follows.
                    guard inflateReset(&stream) == Z_OK else { return nil }
                    continue
                }
                guard status == Z_OK || (status == Z_BUF_ERROR && produced > 0) else { return nil }
                if stream.avail_in == 0 && produced == 0 { return nil }
            }
        }
    }

    private static func appendLittleEndian(_ value: UInt32, to out: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) {
            out.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }
}
