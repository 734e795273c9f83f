import NiceICECore

/// A description ``Negotiation`` applied, with what it read from it: the data transport's
/// values, every section's mid and ufrag (for candidate routing) and the `m=` lines (for the
/// rejected sections a later offer repeats).
struct AppliedDescription: Sendable, Hashable {
    /// The description as given (a local one as created).
    var description: SessionDescription
    /// The data section's transport values.
    var data: DataChannelRemoteDescription
    /// Every section's mid, in m-line order.
    var mids: [String?]
    /// Every section's ufrag (media level, else session level), in m-line order.
    var ufrags: [String?]
    /// Every section's `m=` line.
    var mediaLines: [SessionLines.MediaLine]

    /// Reads `description`.
    ///
    /// - Throws: The readers' ``SdpError``.
    init(_ description: SessionDescription) throws(SdpError) {
        let parsed = try DataChannelRemoteDescription.read(description.sdp)
        self.description = description
        self.data = parsed.remote
        self.mids = parsed.ice.media.map(\.mid)
        self.ufrags = parsed.ice.media.map(\.usernameFragment)
        self.mediaLines = parsed.mediaLines
    }

    /// The sections other than the data section, as a later offer repeats them (rejected).
    var otherSections: [DataChannelOffer.RejectedSection] {
        mediaLines.indices.compactMap { index in
            guard index != data.mLineIndex else { return nil }
            let line = mediaLines[index]
            return DataChannelOffer.RejectedSection(
                kind: line.kind, proto: line.proto, format: line.firstFormat, mid: mids.indices.contains(index) ? mids[index] : nil)
        }
    }
}
