#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing
@testable import NiceICECore

/// The browser SDP files in Fuzz/seed, read from disk.
enum SeedSDP {
    /// Reads `Fuzz/seed/sdp-<name>.sdp` from the first directory above this file that has it
    /// (the package root, also when scripts/core-alone.sh links the tests into a package of their own).
    static func read(_ name: String) throws -> String {
        var directory = URL(filePath: #filePath).deletingLastPathComponent()
        for _ in 0..<6 {
            directory = directory.deletingLastPathComponent()
            let file = directory.appending(path: "Fuzz/seed/sdp-\(name).sdp")
            if let data = try? Data(contentsOf: file) {
                return String(decoding: data, as: UTF8.self)
            }
        }
        throw IceError(.invalidSDP, field: "sdp", reason: "Fuzz/seed/sdp-\(name).sdp not found above \(#filePath)")
    }
}

@Suite("IceDescription: media sections and BUNDLE")
struct IceDescriptionBundleTests {
    @Test("the seed files in Fuzz/seed are the samples these tests use", .timeLimit(.minutes(1)), arguments: [
        ("chromeOffer", SampleSDP.chromeOffer), ("chromeAnswer", SampleSDP.chromeAnswer),
        ("firefoxOffer", SampleSDP.firefoxOffer), ("firefoxAnswer", SampleSDP.firefoxAnswer),
        ("iceLiteAnswer", SampleSDP.iceLiteAnswer),
    ])
    func seedsMatchSamples(name: String, sample: String) throws {
        #expect(try SeedSDP.read(name) == sample)
    }

    @Test("Chrome offer: kinds, ports, one BUNDLE group whose first mid carries the transport", .timeLimit(.minutes(1)))
    func chromeOffer() throws {
        let offer = try IceDescription(parsing: SampleSDP.chromeOffer)
        #expect(offer.bundleGroups == [["0", "1", "2"]])
        #expect(offer.media.map(\.kind) == ["audio", "video", "application"])
        #expect(offer.media.map(\.port) == [54321, 9, 9])
        #expect(offer.media.allSatisfy { !$0.isRejected && !$0.bundleOnly })
        #expect(offer.bundleGroup(containing: "1") == ["0", "1", "2"])
        #expect(offer.bundleGroup(containing: "7") == nil)
        #expect(offer.media(mid: "2")?.mLineIndex == 2)
        #expect(offer.media(mid: "7") == nil)
        for mid in ["0", "1", "2"] {
            let transport = try #require(offer.transportMedia(for: mid))
            #expect(transport.mid == "0")
            #expect(transport.parameters == IceParameters(usernameFragment: "EsAw", password: "bP+XJMM09aR8AiX1jdukzR6Y"))
            #expect(transport.candidates.count == 4)
        }
        #expect(offer.transportMedia(for: "7") == nil)
        #expect(offer.answererRole() == .controlled)
        #expect(offer.answererRole(iceLite: true) == .controlled)
    }

    @Test("Firefox offer: session-level BUNDLE before the first m= line, all on one port", .timeLimit(.minutes(1)))
    func firefoxOffer() throws {
        let offer = try IceDescription(parsing: SampleSDP.firefoxOffer)
        #expect(offer.bundleGroups == [["0", "1", "2"]])
        #expect(offer.media.map(\.kind) == ["audio", "video", "application"])
        #expect(offer.media.map(\.port) == [50358, 50358, 50358])
        #expect(offer.transportMedia(for: "1")?.mid == "0")
        #expect(offer.transportMedia(for: "2")?.endOfCandidates == true)
    }

    @Test("answers and ICE-lite: BUNDLE of one mid; an ICE-lite offerer makes a full answerer controlling", .timeLimit(.minutes(1)))
    func answersAndLite() throws {
        for sdp in [SampleSDP.chromeAnswer, SampleSDP.firefoxAnswer, SampleSDP.iceLiteAnswer] {
            let ice = try IceDescription(parsing: sdp)
            #expect(ice.bundleGroups == [["0"]])
            #expect(ice.media.map(\.kind) == ["application"])
        }
        let lite = try IceDescription(parsing: SampleSDP.iceLiteAnswer)
        #expect(lite.media[0].port == 7)
        #expect(lite.answererRole() == .controlling)
        #expect(lite.answererRole(iceLite: true) == .controlled)
    }

    @Test("port 0 rejects a section unless it is bundle-only", .timeLimit(.minutes(1)))
    func rejectedAndBundleOnly() throws {
        let sdp = SampleSDP.chromeOffer
            .replacing("m=video 9 ", with: "m=video 0 ")
            .replacing("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n", with: "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\na=bundle-only\r\n")
        let offer = try IceDescription(parsing: sdp)
        #expect(offer.media.map(\.port) == [54321, 0, 0])
        #expect(offer.media.map(\.isRejected) == [false, true, false])
        #expect(offer.media.map(\.bundleOnly) == [false, false, true])
        #expect(offer.bundleGroups == [["0", "1", "2"]])
    }

    @Test("lenient where browsers and servers differ: spacing, port counts, case, other group semantics", .timeLimit(.minutes(1)))
    func lenient() throws {
        let sdp = """
            v=0
            a=group:bundle  a   b\u{20}
            a=group:LS a b
            a=group:BUNDLE
            m=audio  9/2  RTP/AVP  0 8\u{20}
            a=mid:a
            m=video 9 RTP/AVP 96
            a=mid:b
            """
        let ice = try IceDescription(parsing: sdp)
        #expect(ice.bundleGroups == [["a", "b"]])
        #expect(ice.media.map(\.port) == [9, 9])
        #expect(ice.media.map(\.kind) == ["audio", "video"])
    }

    @Test("a=bundle-only and a=mid at session level are ignored", .timeLimit(.minutes(1)))
    func sessionLevelIgnored() throws {
        let ice = try IceDescription(parsing: "v=0\na=bundle-only\na=mid:x\nm=audio 0 RTP/AVP 0\n")
        #expect(ice.media[0].mid == nil)
        #expect(ice.media[0].isRejected)
    }

    /// Bad `m=` and `a=group` lines, the field the error must name, and the line it must report.
    static let rejected: [(String, String, Int)] = [
        ("m=audio\n", "m=", 1),
        ("m=\n", "m=", 1),
        ("v=0\nm=audio 9 RTP/AVP\n", "m=", 2),
        ("m= 9 RTP/AVP 0\n", "m=", 1),
        ("m=audio x RTP/AVP 0\n", "m=", 1),
        ("m=audio -1 RTP/AVP 0\n", "m=", 1),
        ("m=audio 65536 RTP/AVP 0\n", "m=", 1),
        ("m=audio 000009 RTP/AVP 0\n", "m=", 1),
        ("m=audio 9/0 RTP/AVP 0\n", "m=", 1),
        ("m=audio 9/ RTP/AVP 0\n", "m=", 1),
        ("m=audio 9/x RTP/AVP 0\n", "m=", 1),
        ("m=audio 9 RTP//AVP 0\n", "m=", 1),
        ("m=audio 9 /RTP 0\n", "m=", 1),
        ("m=au\"dio 9 RTP/AVP 0\n", "m=", 1),
        ("m=audio 9 RTP/AVP 0\t8\n", "m=", 1),
        ("m=\(String(repeating: "a", count: 33)) 9 RTP/AVP 0\n", "m=", 1),
        ("v=0\na=group\n", "a=group", 2),
        ("v=0\na=group:\n", "a=group", 2),
        ("v=0\na=group: \n", "a=group", 2),
        ("v=0\na=group:BUN\"DLE 0\n", "a=group", 2),
        ("v=0\na=group:BUNDLE 0 a\"b\n", "a=group", 2),
        ("v=0\na=group:BUNDLE 0 0\nm=audio 9 RTP/AVP 0\na=mid:0\n", "a=group", 2),
        ("v=0\na=group:BUNDLE 0 1\nm=audio 9 RTP/AVP 0\na=mid:0\n", "a=group", 2),
        ("v=0\na=group:BUNDLE 0\nm=audio 9 RTP/AVP 0\n", "a=group", 2),
        ("v=0\na=group:BUNDLE 0\na=group:BUNDLE 1 0\nm=audio 9 RTP/AVP 0\na=mid:0\nm=audio 9 RTP/AVP 0\na=mid:1\n", "a=group", 3),
        ("v=0\nm=audio 9 RTP/AVP 0\na=mid:0\na=group:BUNDLE 0\n", "a=group", 4),
        ("m=audio 9 RTP/AVP 0\na=mid:0\nm=video 9 RTP/AVP 96\na=mid:0\n", "a=mid", 4),
        ("m=audio 0 RTP/AVP 0\na=bundle-only:yes\n", "a=bundle-only", 2),
        ("m=audio 0 RTP/AVP 0\na=bundle-only\na=bundle-only\n", "a=bundle-only", 3),
    ]

    @Test("malformed m= and a=group lines give typed errors naming the field and the line", .timeLimit(.minutes(1)), arguments: rejected)
    func rejects(sdp: String, field: String, line: Int) {
        let error = #expect(throws: IceError.self) { try IceDescription(parsing: sdp) }
        #expect(error?.code == .invalidSDP)
        #expect(error?.field == field)
        #expect(error?.reason.hasPrefix("line \(line): ") == true, "\(error?.reason ?? "no error")")
    }

    @Test("error reasons name the m= field and the mid", .timeLimit(.minutes(1)))
    func reasons() {
        #expect(throws: IceError(.invalidSDP, field: "m=", reason: "line 1: port: \"70000\" is not a port number (0 to 65535)")) {
            try IceDescription(parsing: "m=audio 70000 RTP/AVP 0")
        }
        #expect(throws: IceError(.invalidSDP, field: "a=group", reason: "line 1: BUNDLE names mid \"1\", but no media section has it")) {
            try IceDescription(parsing: "a=group:BUNDLE 0 1\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n")
        }
        #expect(throws: IceError(.invalidSDP, field: "a=mid", reason: "line 4: mid \"0\" already names media section 0")) {
            try IceDescription(parsing: "m=audio 9 RTP/AVP 0\na=mid:0\nm=audio 9 RTP/AVP 0\na=mid:0")
        }
    }

    @Test("huge BUNDLE and m= lines stay bounded and fail or pass fast", .timeLimit(.minutes(1)))
    func bounded() throws {
        let count = 20_000
        var sdp = "a=group:BUNDLE " + (0..<count).map(String.init).joined(separator: " ") + "\r\n"
        for index in 0..<count {
            sdp += "m=a 9 P 0\r\na=mid:\(index)\r\n"
        }
        let ice = try IceDescription(parsing: sdp)
        #expect(ice.bundleGroups.first?.count == count)
        #expect(ice.transportMedia(for: "\(count - 1)")?.mid == "0")
        let longLine = "m=audio 9 RTP/AVP " + String(repeating: "0 ", count: 400_000)
        #expect(try IceDescription(parsing: longLine).media.count == 1)
        let tooLong = "a=group:BUNDLE " + String(repeating: "x ", count: IceDescription.maximumLength / 2)
        #expect(throws: IceError(.invalidSDP, field: "sdp", reason: "longer than 1048576 bytes")) {
            try IceDescription(parsing: tooLong)
        }
    }

    @Test("a trickled candidate's section: by sdpMid first, else by sdpMLineIndex", .timeLimit(.minutes(1)))
    func candidateSection() throws {
        let offer = try IceDescription(parsing: SampleSDP.chromeOffer)
        let line = "candidate:1 1 UDP 2015363327 192.0.2.1 45678 typ host"
        #expect(try offer.media(for: IceCandidate(parsing: line, sdpMid: "2", sdpMLineIndex: 0)).mid == "2")
        #expect(try offer.media(for: IceCandidate(parsing: line, sdpMLineIndex: 1)).mid == "1")
        let unknown = #expect(throws: IceError.self) { try offer.media(for: IceCandidate(parsing: line, sdpMid: "x", sdpMLineIndex: 0)) }
        #expect(unknown?.code == .invalidCandidate)
        #expect(unknown?.field == "sdpMid")
        let neither = #expect(throws: IceError.self) { try offer.media(for: IceCandidate(parsing: line)) }
        #expect(neither?.field == "sdpMid")
        let outOfRange = #expect(throws: IceError.self) { try offer.media(for: IceCandidate(parsing: line, sdpMLineIndex: 3)) }
        #expect(outOfRange?.field == "sdpMLineIndex")
        #expect(outOfRange?.reason == "m-line index 3 is out of range: the description has 3 media sections")
    }
}
