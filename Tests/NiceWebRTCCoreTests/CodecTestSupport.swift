import NiceWebRTCCore

/// A deterministic generator (SplitMix64) so the codec round trips are reproducible.
struct CodecTestRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` bytes in `range` (1...255 keeps H.264 NAL bodies free of start codes).
    mutating func bytes(_ count: Int, in range: ClosedRange<UInt8> = 0...255) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: range, using: &self) }
    }
}

enum CodecTestSupport {
    /// Units for payloads with consecutive sequence numbers from `first`, one timestamp, the
    /// marker on the last.
    static func units(_ payloads: [[UInt8]], first: UInt16 = 100, timestamp: UInt32 = 9000, marker: Bool = true) -> [RtpPayloadUnit] {
        payloads.enumerated().map { index, payload in
            RtpPayloadUnit(payload: payload, marker: marker && index == payloads.count - 1, timestamp: timestamp,
                           sequenceNumber: first &+ UInt16(truncatingIfNeeded: index))
        }
    }

    /// The error `body` throws, or `nil`.
    static func code<T>(_ body: () throws -> T) -> RtpCodecError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? RtpCodecError
        }
    }
}
