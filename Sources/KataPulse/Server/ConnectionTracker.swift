import NIOCore
import NIOHTTP1

/// The per-connection half of the ``ConnectionLimiter``: tells it when a request starts and ends, and cuts the
/// connection when a request head does not arrive in full within the read-header timeout (slow-loris).
///
/// The deadline runs from the accept, and on a kept-alive connection from the first byte of the next request
/// (waiting for it is the idle timeout's business), so a client dripping a head byte by byte is cut off even
/// though it is never idle. Two handlers share this state: ``rawBytes`` sits before the HTTP decoder and sees
/// the first byte; ``requests`` sits after it and sees complete heads and the responses' ends.
final class ConnectionTracker {
    private let limiter: ConnectionLimiter
    private let headTimeout: TimeAmount
    private var awaitingHead = true
    private var deadline: Scheduled<Void>?

    init(limiter: ConnectionLimiter, headTimeout: TimeAmount) {
        self.limiter = limiter
        self.headTimeout = headTimeout
    }

    var rawBytes: RawBytesHandler { RawBytesHandler(tracker: self) }
    var requests: RequestHandler { RequestHandler(tracker: self) }

    fileprivate func startDeadline(_ context: ChannelHandlerContext) {
        guard awaitingHead, deadline == nil else { return }
        let channel = context.channel
        let limiter = limiter
        deadline = context.eventLoop.scheduleTask(in: headTimeout) {
            limiter.closing(channel, because: .headTimeout)
            channel.close(promise: nil)
        }
    }

    fileprivate func headArrived(_ context: ChannelHandlerContext) {
        awaitingHead = false
        deadline?.cancel()
        deadline = nil
        limiter.requestStarted(on: context.channel)
    }

    fileprivate func responseEnded(_ context: ChannelHandlerContext) {
        awaitingHead = true
        limiter.requestFinished(on: context.channel)
    }

    fileprivate func closed(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    /// Before the decoder: starts the head deadline at the accept and at the first byte of each request.
    final class RawBytesHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        private let tracker: ConnectionTracker

        fileprivate init(tracker: ConnectionTracker) {
            self.tracker = tracker
        }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { tracker.startDeadline(context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            tracker.startDeadline(context)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            tracker.startDeadline(context)
            context.fireChannelRead(data)
        }

        func channelInactive(context: ChannelHandlerContext) {
            tracker.closed(context)
            context.fireChannelInactive()
        }
    }

    /// After the decoder: a complete head stops the deadline; a response's end makes the connection idle.
    final class RequestHandler: ChannelDuplexHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart
        private let tracker: ConnectionTracker

        fileprivate init(tracker: ConnectionTracker) {
            self.tracker = tracker
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head = unwrapInboundIn(data) { tracker.headArrived(context) }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) { tracker.responseEnded(context) }
            context.write(data, promise: promise)
        }
    }
}
