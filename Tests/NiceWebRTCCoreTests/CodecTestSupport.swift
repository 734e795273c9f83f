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

    /// `count` random bytes; with `nonZero`, none is 0 (keeps H.264 NAL bodies free of start codes).
    mutating func bytes(_ count: Int, nonZero: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            var word = next()
            for _ in 0..<8 {
                let byte = UInt8(truncatingIfNeeded: word)
                bytes.append(nonZero && byte == 0 ? 1 : byte)
                word >>= 8
            }
        }
        return Array(bytes.prefix(count))
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
    static func code<T>(_ body: () throws -> T) -> RtpError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? RtpError
        }
    }
}
