// The request context of the LiveServer's router.
import Hummingbird
import NIOCore

/// Hummingbird's basic context plus the remote address (the rate limiter's key).
struct LiveRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
