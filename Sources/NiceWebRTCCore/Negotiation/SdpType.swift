/// The type of a session description (W3C `RTCSdpType`, RFC 8829 §4.1.8).
public enum SdpType: String, Sendable, Hashable, CaseIterable {
    /// A proposal of a session (W3C `"offer"`).
    case offer
    /// A provisional answer: it may be replaced by another pranswer or the final answer
    /// (W3C `"pranswer"`).
    case pranswer
    /// The final answer to the offer in effect (W3C `"answer"`).
    case answer
    /// Cancels the offer in effect and goes back to `stable` (W3C `"rollback"`; its SDP is ignored).
    case rollback
}
