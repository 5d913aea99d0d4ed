import NIOCore

/// In front of TLS: a connection whose first byte is not a TLS handshake record but looks like an HTTP request
/// is answered `400 Client sent an HTTP request to an HTTPS server.` (as Go's server answers, so a scraper with
/// the wrong scheme says why), anything else that is not TLS is closed; a TLS connection passes untouched.
final class PlaintextRequestRejector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The content type of a TLS handshake record, the first byte of every ClientHello.
    private static let handshakeRecord: UInt8 = 0x16
    private static let answer = "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return }
        if first == Self.handshakeRecord {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        if first >= UInt8(ascii: "A") && first <= UInt8(ascii: "Z") {
            let answer = context.channel.allocator.buffer(string: Self.answer)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.close(promise: nil)
        }
    }
}
