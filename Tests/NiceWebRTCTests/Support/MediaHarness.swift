import Foundation
import NiceICE
@testable import NiceWebRTC
import NiceWebRTCCore
import Testing

/// A PeerConnection on 127.0.0.1 that accepts the peer's audio and video (recvonly, W3C's way)
/// unless told otherwise.
func mediaPeer(_ policy: RemoteMediaPolicy = .accept(direction: .recvonly)) throws -> PeerConnection {
    var configuration = PeerConnection.Configuration(localAddresses: ["127.0.0.1"])
    configuration.remoteMediaPolicy = policy
    return try PeerConnection(configuration: configuration)
}

/// Reads a remote track's packets in a task and reports each count, so a writer can wait for
/// its batch to arrive (no sleeps, no UDP buffer overrun).
final class TrackReader: Sendable {
    let task: Task<Void, Never>
    let progress: AsyncStream<Int>
    let received = Locked<[RtpPacket]>([])

    init(_ track: RemoteTrack) {
        let stream = track.packets()
        let (progress, k) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        self.progress = progress
        let received = received
        task = Task {
            for await packet in stream {
                let n = received.withLock { r -> Int in
                    r.append(packet)
                    return r.count
                }
                k.yield(n)
            }
            k.finish()
        }
    }

    /// The first `count` packets read so far.
    func peek(_ count: Int) -> [RtpPacket] { received.withLock { Array($0.prefix(count)) } }

    /// Waits until `count` packets were read in all (false if the stream ended first).
    func wait(for count: Int, _ iterator: inout AsyncStream<Int>.Iterator) async -> Bool {
        while let n = await iterator.next() {
            if n >= count { return true }
        }
        return false
    }
}

/// The first `n` events of a stream, within `timeout`.
func first<T: Sendable>(_ n: Int, of stream: AsyncStream<T>, timeout: Duration = .seconds(20)) async -> [T] {
    await withDeadline(timeout) {
        var out: [T] = []
        for await e in stream {
            out.append(e)
            if out.count == n { break }
        }
        return out
    } ?? []
}

/// A packet a server might write: its own SSRC, payload type and sequence numbers.
func serverPacket(_ i: Int, payloadType: UInt8 = 100) -> RtpPacket {
    RtpPacket(
        marker: i % 10 == 9, payloadType: payloadType, sequenceNumber: UInt16(truncatingIfNeeded: i * 7 + 3), timestamp: UInt32(i * 3000),
        ssrc: 0xDEAD_BEEF, payload: (0..<(20 + i % 50)).map { UInt8(truncatingIfNeeded: $0 &+ i) })
}
