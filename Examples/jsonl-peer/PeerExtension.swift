// What a peer program adds to the WebRTC-JSONL flow of `Peer` (media-peer: its tracks). dc-peer
// adds nothing.
import NiceWebRTC

/// Hooks `Peer` calls at fixed points of the offer/answer flow and of close.
package protocol PeerExtension: Sendable {
    /// Changes the configuration before the connection is created.
    func configure(_ configuration: inout PeerConnection.Configuration)
    /// The connection exists, before anything is negotiated: install handlers.
    func start(_ connection: PeerConnection)
    /// The offerer, before its first offer: add transceivers and tracks.
    func willOffer(_ connection: PeerConnection) throws(PeerConnectionError)
    /// The answerer, after a remote offer was applied and before the answer.
    func willAnswer(_ connection: PeerConnection)
    /// Close began (before the connection closes): stop, and write the final lines.
    func finish(_ connection: PeerConnection) async
}
