import Testing

@testable import NiceWebRTCCore

/// The trace summary of SCTP packets (issue 17 §4: the stall was diagnosed from these lines).
@Suite("SCTP packet summary", .timeLimit(.minutes(1)))
struct SctpPacketSummaryTests {
    static let header: [UInt8] = [0x13, 0x88, 0x13, 0x88, 0, 0, 0, 1, 0, 0, 0, 0]

    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }

    @Test("DATA and SACK in one packet: TSN, stream, SSN, PPID, flags, length; cum, rwnd, gaps, dups")
    func dataAndSack() {
        let payload = [UInt8](repeating: 7, count: 5)
        let data = [0, 3] + Self.be16(16 + 5) + Self.be32(861) + Self.be16(1) + Self.be16(949) + Self.be32(53) + payload + [0, 0, 0]
        let sack = [3, 0] + Self.be16(24) + Self.be32(860) + Self.be32(131_072) + Self.be16(1) + Self.be16(2) + Self.be16(2) + Self.be16(4) + Self.be32(855)
        let summary = SctpPacketSummary(Self.header + data + sack)
        #expect(summary.chunks == [
            "DATA tsn=861 sid=1 ssn=949 ppid=53 BE len=5",
            "SACK cum=860 rwnd=131072 gaps=[2-4] dups=2",
        ])
    }

    @Test("FORWARD-TSN, control chunks by name, I-DATA")
    func otherChunks() {
        let fwd = [192, 0] + Self.be16(8) + Self.be32(1000)
        let heartbeat: [UInt8] = [4, 0, 0, 8, 0, 1, 0, 4]
        let idata = [64, 4] + Self.be16(20) + Self.be32(9) + Self.be16(2) + [0, 0] + Self.be32(77) + Self.be32(51)
        #expect(SctpPacketSummary(Self.header + fwd + heartbeat + idata).chunks == [
            "FORWARD-TSN cum=1000 len=8", "HEARTBEAT flags=0 len=8", "I-DATA tsn=9 sid=2 mid=77 U len=0",
        ])
    }

    @Test("Short packets, bad chunk lengths and endless chunk lists are named, never trusted")
    func hostile() {
        #expect(SctpPacketSummary([1, 2, 3]).chunks == ["short packet (3 bytes)"])
        #expect(SctpPacketSummary(Self.header).chunks == ["no chunks"])
        #expect(SctpPacketSummary(Self.header + [0, 0, 0, 2]).chunks == ["malformed chunk type=0 len=2"])
        #expect(SctpPacketSummary(Self.header + [0, 0, 0xff, 0xff, 1]).chunks == ["malformed chunk type=0 len=65535"])
        let many = Array([[UInt8]](repeating: [4, 0, 0, 4], count: 1000).joined())
        let summary = SctpPacketSummary(Self.header + many)
        #expect(summary.chunks.count == SctpPacketSummary.maximumChunks + 1 && summary.chunks.last == "…")
        for n in 0..<64 {  // every truncation of a valid packet
            let packet = Array((Self.header + [0, 3, 0, 21] + Self.be32(1) + [0, 1, 0, 2] + Self.be32(53) + [1, 2, 3, 4, 5]).prefix(n))
            #expect(!SctpPacketSummary(packet).chunks.isEmpty)
        }
    }
}
