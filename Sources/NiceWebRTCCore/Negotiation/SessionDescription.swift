/// A session description as W3C signals it (`RTCSessionDescriptionInit` /
/// `RTCSessionDescription`): its type and its SDP text.
///
/// ```swift
/// let offer = try negotiation.createOffer()
/// signal(offer.type.rawValue, offer.sdp)          // "offer", "v=0\r\n…"
/// let answer = SessionDescription(type: .answer, sdp: receivedText)
/// ```
public struct SessionDescription: Sendable, Hashable {
    /// Offer, pranswer, answer or rollback.
    public var type: SdpType
    /// The SDP text (CRLF line endings when we wrote it); empty for a rollback.
    public var sdp: String

    /// Creates a description.
    public init(type: SdpType, sdp: String) {
        self.type = type
        self.sdp = sdp
    }
}
