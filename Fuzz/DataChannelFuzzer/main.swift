// libFuzzer entry point for the pure data-channel layer of NiceWebRTCCore: DCEP, message
// PPIDs, the data-channel SDP readers, offer and answer writers.
//
// Built by Fuzz/dc-run.sh together with Sources/NiceWebRTCCore (one module, so internal helpers
// are visible) over Sources/NiceICECore (a module of its own, as in the package). The first byte
// picks a mode (an input that starts with "v=" is an SDP as a whole):
//   0  DCEP: the rest as a DcepMessage; a parsed one re-encodes to the input (the reliability
//      parameter clamped to 16 bits, 0 for reliable channels) and re-parses equal; a DcepOpen
//      built from its values encodes to a message that parses to it.
//   1  messages: DataChannelMessage(ppid: bytes 1-4 big-endian, payload: the rest) never crashes,
//      is nil exactly for DCEP and unknown PPIDs, keeps the payload, and its `.wire` parses back
//      to an equal message (empty text and binary as one zero byte with PPID 56 / 57).
//   2  options and offer: DataChannelOptions.validate(label:) fails exactly as W3C orders its
//      checks, its reliability round-trips through DCEP; a DataChannelOffer from fuzzed ICE
//      credentials, mid, SCTP port and size is built exactly when they are valid, reads back with
//      DataChannelRemoteDescription and can be answered.
//   3  SDP: byte 1 picks a line position, the rest is SDP text (lossy UTF-8), read alone and also
//      spliced into a valid Chrome-like offer at that line. DataChannelDescription,
//      DataChannelRemoteDescription and DataChannelAnswer never crash, throw only SdpErrors with
//      a field, a code that fits it, a reason without a "line N:" prefix and a line (when given,
//      and always for malformed lines and invalid values) that is an m= or a= line of the text;
//      they agree with each other; an answer reads back with
//      IceDescription, DtlsDescription, DataChannelDescription and
//      DataChannelRemoteDescription(answer:) with exactly our values, rejects (port 0) every
//      non-data section and bundles the data mid exactly when the offer bundles it.
//   4  negotiation: the rest is a script for two Negotiation values (JSEP): offers, answers,
//      deliveries, rollbacks, restarts, mutated and raw descriptions, fuzzed candidates, audio
//      and video transceivers added, redirected and stopped; both stay consistent after every
//      step (Fuzz/DataChannelFuzzer/NegotiationScript.swift).
// SDP inputs (mode 3 and "v=" inputs) also go through the audio/video reader and a Negotiation
// that answers media (Fuzz/DataChannelFuzzer/MediaSdp.swift).
// A broken invariant traps (libFuzzer records the input).

import NiceICECore

#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0, size <= 65_536 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if bytes.starts(with: [UInt8(ascii: "v"), UInt8(ascii: "=")]) {
        checkSDPInput(String(decoding: bytes, as: UTF8.self), position: size)
        return 0
    }
    let rest = bytes[1...]
    switch bytes[0] % 5 {
    case 0: checkDcep(Array(rest))
    case 1: checkMessage(Array(rest))
    case 2: checkOptionsAndOffer(Array(rest))
    case 4: checkNegotiation(Array(rest))
    default:
        let position = rest.first.map(Int.init) ?? 0
        checkSDPInput(String(decoding: rest.dropFirst(), as: UTF8.self), position: position)
    }
    return 0
}

// MARK: - DCEP

private func checkDcep(_ input: [UInt8]) {
    let message: DcepMessage
    do {
        message = try DcepMessage(parsing: input)
    } catch {
        guard error.code == .protocolViolation, error.field == "dcep" else { violation("DCEP threw an untyped error: \(error)") }
        return
    }
    let encoded = message.bytes
    switch message {
    case .ack:
        guard input == [DcepMessage.ackType], encoded == input else { violation("DCEP ACK is not the one byte 0x02") }
    case .open(let open):
        // The wire form is the input with the reliability parameter normalised.
        var expected = input
        let parameter = UInt32(input[4]) << 24 | UInt32(input[5]) << 16 | UInt32(input[6]) << 8 | UInt32(input[7])
        let normalised: UInt32 = input[1] & 0x7F == 0 ? 0 : min(parameter, UInt32(UInt16.max))
        expected[4] = UInt8(normalised >> 24)
        expected[5] = UInt8((normalised >> 16) & 0xFF)
        expected[6] = UInt8((normalised >> 8) & 0xFF)
        expected[7] = UInt8(normalised & 0xFF)
        guard encoded == expected else { violation("DCEP OPEN re-encodes to other bytes than its input") }
        guard open.ordered == (input[1] & 0x80 == 0), open.priority == UInt16(input[2]) << 8 | UInt16(input[3]) else {
            violation("DCEP OPEN misread ordered or priority")
        }
        let rebuilt = DcepOpen(
            ordered: open.ordered, reliability: open.reliability, priority: open.priority, label: open.label,
            protocol: open.protocol)
        guard rebuilt == open else { violation("DcepOpen built from parsed values differs") }
        guard let again = try? DcepMessage(parsing: rebuilt.bytes), again == .open(rebuilt), again.bytes == encoded else {
            violation("DCEP OPEN does not survive a second round trip")
        }
    }
    guard let reparsed = try? DcepMessage(parsing: encoded), reparsed == message, reparsed.hashValue == message.hashValue else {
        violation("re-encoded DCEP message does not parse back equal")
    }
}

// MARK: - Messages

private func checkMessage(_ input: [UInt8]) {
    guard input.count >= 4 else {
        _ = DataChannelMessage(ppid: UInt32(input.first ?? 0), payload: input)
        return
    }
    let ppid = UInt32(input[0]) << 24 | UInt32(input[1]) << 16 | UInt32(input[2]) << 8 | UInt32(input[3])
    let payload = input[4...]
    let message = DataChannelMessage(ppid: ppid, payload: payload)
    guard let known = DataChannelPPID(rawValue: ppid), known != .dcep else {
        guard message == nil else { violation("a message for DCEP or an unknown PPID \(ppid)") }
        return
    }
    guard let message else { violation("no message for the known PPID \(ppid)") }
    switch (known, message) {
    case (.string, .text(let s)), (.stringPartial, .text(let s)):
        guard s == String(decoding: payload, as: UTF8.self) else { violation("text message is not the decoded payload") }
        if String(validating: payload, as: UTF8.self) != nil, Array(s.utf8) != Array(payload) {
            violation("valid UTF-8 text changed")
        }
    case (.binary, .binary(let b)), (.binaryPartial, .binary(let b)):
        guard b == Array(payload) else { violation("binary message is not the payload") }
    case (.stringEmpty, .text(let s)):
        guard s.isEmpty else { violation("PPID 56 gave non-empty text") }
    case (.binaryEmpty, .binary(let b)):
        guard b.isEmpty else { violation("PPID 57 gave non-empty bytes") }
    default:
        violation("PPID \(ppid) gave the wrong kind of message")
    }
    let wire = message.wire
    switch message {
    case .text(let s):
        guard s.isEmpty ? (wire.ppid == .stringEmpty && wire.payload == [0]) : (wire.ppid == .string && wire.payload == Array(s.utf8)) else {
            violation("text wire form is wrong")
        }
    case .binary(let b):
        guard b.isEmpty ? (wire.ppid == .binaryEmpty && wire.payload == [0]) : (wire.ppid == .binary && wire.payload == b) else {
            violation("binary wire form is wrong")
        }
    }
    guard message.count == (wire.payload == [0] && (wire.ppid == .stringEmpty || wire.ppid == .binaryEmpty) ? 0 : wire.payload.count) else {
        violation("count disagrees with the wire payload")
    }
    guard DataChannelMessage(ppid: wire.ppid.rawValue, payload: wire.payload) == message else {
        violation("wire form does not parse back to the message")
    }
}

// MARK: - Options and offer

private struct Reader {
    var bytes: ArraySlice<UInt8>
    mutating func u8() -> UInt8 { bytes.popFirst() ?? 0 }
    mutating func u16() -> UInt16 { UInt16(u8()) << 8 | UInt16(u8()) }
    mutating func u32() -> UInt32 { UInt32(u16()) << 16 | UInt32(u16()) }
    /// Up to the next zero byte (or the end), lossy UTF-8.
    mutating func string() -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        let s = String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
        bytes = bytes[min(end + 1, bytes.endIndex)...]
        return s
    }
}

private func isToken(_ text: String) -> Bool {
    let allowed = Set("!#$%&'*+-.^_`{|}~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    return (1...32).contains(text.utf8.count) && text.utf8.allSatisfy(allowed.contains)
}

private func checkOptionsAndOffer(_ input: [UInt8]) {
    var r = Reader(bytes: input[...])
    let flags = r.u8(), lifetime = r.u16(), retransmits = r.u16(), id = r.u16(), priority = r.u16()
    let sctpPort = r.u16(), size = r.u32()
    let label = r.string(), proto = r.string(), ufrag = r.string(), password = r.string(), mid = r.string()

    let options = DataChannelOptions(
        ordered: flags & 1 == 0, maxPacketLifeTime: flags & 2 != 0 ? lifetime : nil, maxRetransmits: flags & 4 != 0 ? retransmits : nil,
        protocol: proto, negotiated: flags & 8 != 0, id: flags & 16 != 0 ? id : nil)
    let expectedField: String? =
        label.utf8.count > 65_535 ? "label"
        : proto.utf8.count > 65_535 ? "protocol"
        : options.maxPacketLifeTime != nil && options.maxRetransmits != nil ? "maxRetransmits"
        : options.negotiated && options.id == nil ? "id"
        : (options.id ?? 0) == 65_535 ? "id" : nil
    do {
        let reliability = try options.validate(label: label)
        guard expectedField == nil else { violation("validate accepted options that W3C refuses (\(expectedField!))") }
        let expected: DataChannelReliability =
            options.maxRetransmits.map { .maxRetransmits($0) } ?? options.maxPacketLifeTime.map { .maxPacketLifeTime($0) } ?? .reliable
        guard reliability == expected else { violation("validate returned the wrong reliability") }
        let open = DcepOpen(ordered: options.ordered, reliability: reliability, priority: priority, label: label, protocol: proto)
        guard let parsed = try? DcepMessage(parsing: open.bytes), parsed == .open(open) else {
            violation("a valid channel's DCEP OPEN does not parse back")
        }
    } catch {
        guard error.code == .invalidParameters, error.field == expectedField else {
            violation("validate threw \(error), expected field \(expectedField ?? "none")")
        }
    }

    // An offer from fuzzed values.
    let ice = IceParameters(usernameFragment: ufrag, password: password)
    let roles: [DtlsRole] = [.auto, .client, .server]
    let dtls = DtlsParameters(role: roles[Int(flags >> 5) % 3], fingerprints: [ourFingerprint])
    let maxMessageSize = flags & 0x80 != 0 ? Int(Int32(bitPattern: size)) : Int(size)
    let candidates = id & 1 == 0 ? [localCandidate] : []
    let endOfCandidates = id & 2 == 0
    let iceValid = (try? ice.validate()) != nil
    let shouldBuild = iceValid && sctpPort > 0 && maxMessageSize >= 0 && isToken(mid)
    let offer: DataChannelOffer
    do {
        offer = try DataChannelOffer(
            ice: ice, candidates: candidates, endOfCandidates: endOfCandidates, dtls: dtls, sctpPort: sctpPort,
            maxMessageSize: maxMessageSize, mid: mid, sessionId: 1)
    } catch {
        guard !shouldBuild, error.code == .invalidValue, error.field != nil, error.line == nil else {
            violation("DataChannelOffer refused valid values: \(error)")
        }
        return
    }
    guard shouldBuild else { violation("DataChannelOffer accepted invalid values") }
    guard offer.mid == mid, offer.trickled(localCandidate).sdpMid == mid, offer.trickled(localCandidate).sdpMLineIndex == 0 else {
        violation("offer mid or trickled candidate is wrong")
    }
    let remote: DataChannelRemoteDescription
    do { remote = try DataChannelRemoteDescription(parsing: offer.sdp) } catch {
        violation("our own offer does not read back: \(error)")
    }
    guard remote.mid == mid, remote.mLineIndex == 0, remote.ice == ice, remote.dtls == dtls, remote.sctpPort == sctpPort,
        remote.maxMessageSize == maxMessageSize, remote.candidates.map(\.candidateLine) == candidates.map(\.candidateLine),
        remote.endOfCandidates == endOfCandidates, remote.iceOptions == ["trickle"], !remote.iceLite
    else { violation("our own offer reads back with other values") }
    guard let description = try? DataChannelDescription(parsing: offer.sdp), description.mid == mid, description.port == 9,
        description.sctpPort == sctpPort, description.maxMessageSize == maxMessageSize
    else { violation("our own offer's data section reads back with other values") }
    checkAnswer(offer: offer.sdp, remote: remote, selector: Int(flags), mustAnswer: true)
}

// MARK: - SDP

private let ourFingerprint = try! DtlsFingerprint(parsing: "sha-256 " + (0..<32).map { _ in "A5" }.joined(separator: ":"))
private let localIce = IceParameters(usernameFragment: "fzDC", password: "fuzzfuzzfuzzfuzzfuzzfu")
private let localCandidate = IceCandidate(foundation: "1", priority: 2015363327, address: "192.0.2.1", port: 45678, type: .host)

/// A Chrome-like offer: audio tagged in BUNDLE, then the data section.
private let template: [String] = [
    "v=0",
    "o=- 7254391880563472913 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    "a=group:BUNDLE 0 1",
    "a=extmap-allow-mixed",
    "a=msid-semantic: WMS",
    "m=audio 58211 UDP/TLS/RTP/SAVPF 111 0",
    "c=IN IP4 198.51.100.23",
    "a=candidate:1510613869 1 udp 2122260223 198.51.100.23 58211 typ host generation 0 network-id 1",
    "a=ice-ufrag:Q9vK",
    "a=ice-pwd:r2T4uV6wX8yZ0aB1cD3eF5gH",
    "a=ice-options:trickle",
    "a=fingerprint:sha-256 3E:91:5C:0A:D7:28:4B:F6:19:AE:63:72:C0:8D:E5:14:BB:47:2F:9A:06:D3:58:61:CE:7F:A0:12:89:B4:EC:35",
    "a=setup:actpass",
    "a=mid:0",
    "a=sendrecv",
    "a=rtcp-mux",
    "a=rtpmap:111 opus/48000/2",
    "m=application 49872 UDP/DTLS/SCTP webrtc-datachannel",
    "c=IN IP4 198.51.100.23",
    "a=candidate:1510613869 1 udp 2122260223 198.51.100.23 49872 typ host generation 0 network-id 1",
    "a=candidate:3204885443 1 udp 1686052607 198.51.100.23 49873 typ srflx raddr 0.0.0.0 rport 0 generation 0 network-id 1",
    "a=ice-ufrag:Q9vK",
    "a=ice-pwd:r2T4uV6wX8yZ0aB1cD3eF5gH",
    "a=ice-options:trickle",
    "a=fingerprint:sha-256 3E:91:5C:0A:D7:28:4B:F6:19:AE:63:72:C0:8D:E5:14:BB:47:2F:9A:06:D3:58:61:CE:7F:A0:12:89:B4:EC:35",
    "a=setup:actpass",
    "a=mid:1",
    "a=sctp-port:5000",
    "a=max-message-size:262144",
]

private func checkSDPInput(_ text: String, position: Int) {
    checkSDP(text, selector: position)
    checkMediaSDP(text)
    var lines = template
    lines.insert(text, at: position % (lines.count + 1))
    // CRLF mostly; LF when the position's bit 6 is set, as some stacks write.
    checkSDP(lines.joined(separator: position & 64 == 0 ? "\r\n" : "\n") + "\r\n", selector: position / 3)
}

/// Checks what every SdpError of a reader says about `sdp`: a field, a reason without the line
/// (that is in `line`), and a line that is one of the text's `m=` or `a=` lines; the codes whose
/// problem is on one line have it.
private func checkLocation(_ error: SdpError, in sdp: String, reader: String) {
    guard let field = error.field, !error.reason.isEmpty, SdpError.splitLine(error.reason).line == nil else {
        violation("\(reader) threw an SdpError without field or with the line in its reason: \(error)")
    }
    let needsLine: Bool
    switch error.code {
    case .malformed: needsLine = field != "sdp"
    case .invalidValue, .missing: needsLine = true
    case .unsupported: needsLine = false
    }
    guard let line = error.line else {
        guard !needsLine else { violation("\(reader) threw an SdpError without its line: \(error)") }
        return
    }
    let lines = sdp.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    guard line >= 1, line <= lines.count else { violation("\(reader) threw an SdpError with line \(line) of \(lines.count): \(error)") }
    let text = lines[lines.startIndex + line - 1]
    guard text.starts(with: "m=".utf8) || text.starts(with: "a=".utf8) else {
        violation("\(reader) threw an SdpError whose line \(line) is not an m= or a= line: \(error)")
    }
    if error.code == .missing, !text.starts(with: "m=".utf8) {
        violation("\(reader) threw a missing-attribute SdpError that does not point at the section's m= line: \(error)")
    }
}

private let descriptionFields: Set<String?> = ["a=sctp-port", "a=max-message-size"]
private let missingFields: Set<String?> = ["a=ice-ufrag", "a=ice-pwd", "a=fingerprint", "a=setup"]
private let valueFields: Set<String?> = ["a=setup", "a=fingerprint", "a=sctp-port", "a=max-message-size"]

private func checkSDP(_ sdp: String, selector: Int) {
    var description: DataChannelDescription?
    do {
        description = try DataChannelDescription(parsing: sdp)
    } catch {
        guard (error.code == .invalidValue && descriptionFields.contains(error.field)) || (error.code == .malformed && error.field == "sdp")
        else {
            violation("DataChannelDescription threw an unexpected error: \(error)")
        }
        checkLocation(error, in: sdp, reader: "DataChannelDescription")
    }
    if let description, let ice = try? IceDescription(parsing: sdp) {
        guard ice.media.indices.contains(description.mLineIndex) else {
            violation("DataChannelDescription's section \(description.mLineIndex) is not among IceDescription's \(ice.media.count)")
        }
        guard ice.media[description.mLineIndex].port == description.port else {
            violation("DataChannelDescription and IceDescription read other ports for the data section")
        }
    }
    let remote: DataChannelRemoteDescription
    do {
        remote = try DataChannelRemoteDescription(parsing: sdp)
    } catch {
        checkLocation(error, in: sdp, reader: "DataChannelRemoteDescription")
        switch error.code {
        case .missing where !missingFields.contains(error.field), .invalidValue where !valueFields.contains(error.field):
            violation("DataChannelRemoteDescription threw \(error.code) for an unexpected field: \(error)")
        default: break
        }
        // The answer reads the offer the same way: it must refuse too.
        if let answer = try? DataChannelAnswer(offer: sdp, ice: localIce, dtls: DtlsParameters(role: .auto, fingerprints: [ourFingerprint]), maxMessageSize: 1, sessionId: 1) {
            violation("DataChannelAnswer answered an offer DataChannelRemoteDescription refuses: \(answer.sdp.prefix(0))\(error)")
        }
        return
    }
    guard let description, description.mLineIndex == remote.mLineIndex, description.sctpPort == remote.sctpPort,
        description.maxMessageSize == remote.maxMessageSize, description.port != 0
    else { violation("DataChannelRemoteDescription disagrees with DataChannelDescription") }
    guard !remote.dtls.fingerprints.isEmpty, remote.dtls.fingerprints.count <= DtlsDescription.maximumFingerprints else {
        violation("remote description without fingerprints")
    }
    if (try? DataChannelRemoteDescription(answer: sdp)) == nil, remote.dtls.role != .auto {
        violation("answer(_:) refuses a description with a decided role")
    }
    checkAnswer(offer: sdp, remote: remote, selector: selector, mustAnswer: false)
}

private let sizes = [262_144, 0, 65_536, Int(UInt32.max), 1]

private func checkAnswer(offer sdp: String, remote: DataChannelRemoteDescription, selector: Int, mustAnswer: Bool) {
    let roles: [DtlsRole] = [.auto, .client, .server]
    let role = roles[selector % 3]
    let maxMessageSize = sizes[(selector / 3) % sizes.count]
    let endOfCandidates = selector & 1 == 0
    let answer: DataChannelAnswer
    do {
        answer = try DataChannelAnswer(
            offer: sdp, ice: localIce, candidates: [localCandidate], endOfCandidates: endOfCandidates,
            dtls: DtlsParameters(role: role, fingerprints: [ourFingerprint]), maxMessageSize: maxMessageSize, sessionId: 1)
    } catch {
        if role != .auto, role == remote.dtls.role, error.code == .unsupported, error.field == "a=setup" { return }
        guard !mustAnswer else { violation("our own offer cannot be answered: \(error)") }
        // The offer reads as a data-channel description: only the BUNDLE rules of IceAnswer
        // may still refuse it.
        guard error.code == .unsupported, ["a=group", "m=application"].contains(error.field ?? "") else {
            violation("DataChannelAnswer refused a readable offer: \(error)")
        }
        return
    }
    guard role == .auto || role != remote.dtls.role else { violation("answered a=setup with the same role") }
    let localRole = role == .auto ? DtlsRole.answering(remote.dtls.role) : role
    guard answer.remote == remote, answer.localDtls == DtlsParameters(role: localRole, fingerprints: [ourFingerprint]),
        answer.dataMid == remote.mid, answer.dataMLineIndex == remote.mLineIndex
    else { violation("the answer's values differ from the offer's") }
    let dataIndex = remote.mLineIndex

    guard let offerIce = try? IceDescription(parsing: sdp) else { violation("answered offer does not parse as ICE") }
    let ice: IceDescription
    do { ice = try IceDescription(parsing: answer.sdp) } catch { violation("answer does not parse as ICE: \(error)") }
    guard ice.media.count == offerIce.media.count, ice.media.map(\.mid) == offerIce.media.map(\.mid) else {
        violation("the answer does not have the offer's sections and mids")
    }
    for (index, media) in ice.media.enumerated() where index != dataIndex {
        guard media.port == 0, !media.bundleOnly, media.candidates.isEmpty else { violation("non-data section \(index) is not rejected") }
    }
    let data = ice.media[dataIndex]
    guard data.port != 0, data.kind == "application", data.parameters == localIce,
        data.candidates.map(\.candidateLine) == [localCandidate.candidateLine], data.endOfCandidates == endOfCandidates
    else { violation("the answer's data section has other ICE values") }
    let bundled = remote.mid.map { mid in offerIce.bundleGroups.contains { $0.contains(mid) } } ?? false
    guard ice.bundleGroups == (bundled ? [[remote.mid!]] : []), answer.bundleGroup == (bundled ? [remote.mid!] : []) else {
        violation("the answer's BUNDLE group is wrong")
    }
    let rejected = offerIce.media.enumerated().filter { $0.offset != dataIndex }.compactMap(\.element.mid)
    guard answer.rejectedMids == rejected else { violation("rejectedMids is wrong") }

    let dtls: DtlsDescription
    do { dtls = try DtlsDescription(parsing: answer.sdp) } catch { violation("answer does not parse as DTLS: \(error)") }
    guard dtls.media.count == ice.media.count, dtls.media[dataIndex].fingerprints == [ourFingerprint],
        dtls.media[dataIndex].role == localRole
    else { violation("the answer's DTLS values are wrong") }

    let description: DataChannelDescription?
    do { description = try DataChannelDescription(parsing: answer.sdp) } catch { violation("answer's data section does not parse: \(error)") }
    guard let description, description.mLineIndex == dataIndex, description.mid == remote.mid, description.port != 0,
        description.sctpPort == 5000, description.maxMessageSize == maxMessageSize
    else { violation("the answer's data section reads back with other values") }

    let reread: DataChannelRemoteDescription
    do { reread = try DataChannelRemoteDescription(answer: answer.sdp) } catch { violation("answer does not read as an answer: \(error)") }
    guard reread.mid == remote.mid, reread.mLineIndex == dataIndex, reread.ice == localIce,
        reread.dtls == answer.localDtls, reread.sctpPort == 5000, reread.maxMessageSize == maxMessageSize,
        reread.candidates.map(\.candidateLine) == [localCandidate.candidateLine], reread.endOfCandidates == endOfCandidates,
        reread.offererDtlsRole == DtlsRole.answering(localRole)
    else { violation("the answer reads back with other values") }

    let trickled = answer.trickled(localCandidate)
    guard trickled.sdpMid == remote.mid, trickled.sdpMLineIndex == dataIndex, (try? answer.isDataCandidate(trickled)) == true else {
        violation("a trickled local candidate does not name the data section")
    }
    for candidate in remote.candidates {
        guard (try? answer.isDataCandidate(candidate)) == true else { violation("an offered data candidate is not for the data transport") }
    }
}

/// Reports a broken invariant on stderr (unbuffered, so it survives the trap) and traps,
/// which libFuzzer records as a crash with its reproducer.
func violation(_ message: String) -> Never {
    invariantViolated("NiceWebRTC data-channel", message)
}
