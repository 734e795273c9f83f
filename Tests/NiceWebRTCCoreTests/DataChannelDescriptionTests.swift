import NiceWebRTCCore
import Testing

@Suite("DataChannelDescription: the application section of browser SDP")
struct DataChannelDescriptionTests {
    @Test("Chrome's and Firefox's offers: the data section, its mid, port and max-message-size", .timeLimit(.minutes(1)),
          arguments: [("chromeOffer", 262_144), ("firefoxOffer", 1_073_741_823)])
    func browsers(name: String, maxMessageSize: Int) throws {
        let d = try #require(try DataChannelDescription(parsing: try sampleSDP(name)), "\(name) has a data section")
        #expect(d.sctpPort == 5000)
        #expect(d.maxMessageSize == maxMessageSize)
        #expect(d.mid != nil && d.port > 0)
    }

    @Test("defaults, rejection, no data section, bad values", .timeLimit(.minutes(1)))
    func edges() throws {
        let head = "v=0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a\r\na=sctp-port:1\r\n"
        let plain = head + "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:d\r\n"
        let d = try #require(try DataChannelDescription(parsing: plain))
        #expect(d.mid == "d" && d.mLineIndex == 1 && d.port == 0 && d.sctpPort == 5000 && d.maxMessageSize == 65_536)
        #expect(try DataChannelDescription(parsing: head) == nil)
        #expect { try DataChannelDescription(parsing: plain + "a=sctp-port:70000\r\n") } throws: { error in
            (error as? SdpError).map { $0.code == .invalidValue && $0.field == "a=sctp-port" && $0.line == 8 } ?? false
        }
        #expect { try DataChannelDescription(parsing: plain + "a=max-message-size:-1\r\n") } throws: { error in
            (error as? SdpError).map { $0.code == .invalidValue && $0.field == "a=max-message-size" && $0.line == 8 } ?? false
        }
        let zero = try #require(try DataChannelDescription(parsing: plain + "a=max-message-size:0\r\n"))
        #expect(zero.maxMessageSize == 0)
    }

    @Test("our section lines read back", .timeLimit(.minutes(1)))
    func writeRead() throws {
        let sdp = "v=0\r\ns=-\r\n" + DataChannelDescription.sectionLines(mid: "0", maxMessageSize: 262_144)
        let d = try #require(try DataChannelDescription(parsing: sdp))
        #expect(d == DataChannelDescription(mid: "0", mLineIndex: 0, port: 9, sctpPort: 5000, maxMessageSize: 262_144))
    }
}
