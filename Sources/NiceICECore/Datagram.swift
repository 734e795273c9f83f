/// One datagram received over ICE.
public struct Datagram: Sendable, Hashable {
    /// The payload.
    public var bytes: [UInt8]
    /// The component it arrived on.
    public var component: Int

    /// Creates a datagram.
    public init(bytes: [UInt8], component: Int = 1) {
        self.bytes = bytes
        self.component = component
    }
}
