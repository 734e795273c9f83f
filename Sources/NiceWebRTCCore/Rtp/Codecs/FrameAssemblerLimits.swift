extension FrameAssembler {
    /// What one frame in assembly may hold.
    public struct Limits: Sendable, Hashable {
        /// 4 MiB: a 4K VP8 or H.264 key frame is a few hundred kilobytes.
        public static let defaultMaximumFrameBytes = 4 << 20
        /// 4,096 packets: 4 MiB in 1,000-byte payloads.
        public static let defaultMaximumPacketsPerFrame = 4096

        /// The largest frame, in payload bytes and in depacketized bytes; a larger one is dropped
        /// and counted (``Counters/oversizedFrames``).
        public var maximumFrameBytes: Int
        /// The most packets one frame may have (the most packets the assembler holds).
        public var maximumPacketsPerFrame: Int

        public init(maximumFrameBytes: Int = defaultMaximumFrameBytes,
                    maximumPacketsPerFrame: Int = defaultMaximumPacketsPerFrame) {
            self.maximumFrameBytes = max(maximumFrameBytes, 1)
            self.maximumPacketsPerFrame = max(maximumPacketsPerFrame, 1)
        }
    }

    /// What the assembler did with its packets since it was made.
    public struct Counters: Sendable, Hashable {
        /// Packets given to ``FrameAssembler/push(_:)``.
        public var packets = 0
        /// Packets ignored because their sequence number was not after the last one taken
        /// (duplicates, late arrivals).
        public var stalePackets = 0
        /// Packets missing between those taken (the sum of the sequence gaps).
        public var lostPackets = 0
        /// Frames emitted whole.
        public var frames = 0
        /// Frames dropped because a packet of theirs was missing (a gap inside, or a frame whose
        /// first packet may have been lost).
        public var incompleteFrames = 0
        /// Frames dropped for exceeding ``Limits``.
        public var oversizedFrames = 0
        /// Frames dropped because the depacketizer refused them (``lastError`` says why).
        public var malformedFrames = 0
        /// The depacketizer's last refusal.
        public var lastError: RtpError?

        public init() {}

        /// Every frame dropped, for whatever reason (a cue to ask the sender for a key frame).
        public var droppedFrames: Int { incompleteFrames + oversizedFrames + malformedFrames }
    }
}
