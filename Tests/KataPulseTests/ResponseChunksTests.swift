import NIOCore
import Testing

@testable import KataPulse

@Suite struct ResponseChunksTests {
    /// Parts of the sizes a snapshot and a gzip response have: the bytes written are the body's, small parts
    /// are grouped into chunks no larger than the chunk size, and large parts go out as they are (not copied).
    @Test func regroupingKeepsTheBytesAndBoundsTheChunks() {
        let sizes = [0, 5, 1_200, 900, 0, 70_000, 3, 300_000, 1_100, 1_100, 2, 50_000, 1, 40_000, 40_000, 9]
        var parts: [ByteBuffer] = []
        var body: [UInt8] = []
        for (index, size) in sizes.enumerated() {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
            body += bytes
            parts.append(ByteBuffer(bytes: bytes))
        }
        parts += (0..<1_000).map { ByteBuffer(bytes: [UInt8](repeating: UInt8($0 % 251), count: 1_000)) }
        body += (0..<1_000).flatMap { [UInt8](repeating: UInt8($0 % 251), count: 1_000) }
        var chunks = ResponseChunks(parts)
        var written: [UInt8] = []
        var count = 0
        while let chunk = chunks.next() {
            count += 1
            #expect(chunk.readableBytes > 0)
            // Only a large part, passed on whole, exceeds a chunk.
            #expect(chunk.readableBytes <= ResponseChunks.chunkSize || sizes.contains(chunk.readableBytes))
            written += chunk.readableBytesView
        }
        #expect(written == body)
        // 1,000 parts of 1 KB make 16 chunks of 64 KiB, not a thousand writes.
        #expect(count < 40)
    }

    @Test func aLoneSmallPartIsNotCopiedIntoAChunk() {
        let parts = [ByteBuffer(bytes: [1, 2, 3]), ByteBuffer(bytes: [UInt8](repeating: 7, count: 400_000))]
        var chunks = ResponseChunks(parts)
        #expect(chunks.next()?.capacity == parts[0].capacity)
        #expect(chunks.next() == parts[1])
        #expect(chunks.next() == nil)
    }
}
