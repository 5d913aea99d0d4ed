import NIOCore

extension Collection<ByteBuffer> {
    /// The buffers' readable bytes, one after the other, in one new buffer.
    var joined: ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: reduce(0) { $0 + $1.readableBytes })
        for var part in self { out.writeBuffer(&part) }
        return out
    }
}
