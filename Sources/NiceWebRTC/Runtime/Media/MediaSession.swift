import Logging
import NiceICE
import NiceWebRTCCore
import Synchronization

/// The media runtime of one ``PeerConnection``: the bindings of its transceivers, SRTP (an
/// ``SrtpCore`` on the session's DTLS transport, attached when the first exchange negotiates an
/// accepted audio or video section), inbound routing and outbound rewriting.
///
/// **Inbound** (the context thread, from ``SrtpCore``'s handler): RTP by SSRC to a receiver,
/// unknown SSRCs learnt from the `sdes:mid` header extension or the peer's `a=ssrc` lines (at
/// most ``learntSsrcLimit``; beyond, dropped and counted), RTX unwrapped (RFC 4588: the OSN is
/// the first two payload bytes); RTCP compounds parsed: PLI/FIR for our SSRC to the local
/// track's keyframe requests (through the control's limiter), NACK/SR/RR to the ``MediaControl``
/// (``RtcpEngine`` for a PeerConnection: NACK answers, SR/RR, stats figures).
///
/// **Outbound** (the writer's thread): ``LocalTrack/write(_:)`` → per-binding rewrite (SSRC,
/// payload type, sequence number, mid extension) under the lock → ``SrtpCore/sendRtp(_:)``
/// after it is released.
///
/// **Threads and locks.** One lock (`state`), a leaf for everything but the objects' own leaf
/// locks: never held across ``SrtpCore``, the ``MediaControl``, a track's streams or user code.
/// Lock order: operation chain → PeerConnectionCore `state` (read, released) → `state` here
/// (released) → track locks / SrtpCore locks.
///
/// **Lifetime.** The PeerConnectionCore owns it; the bindings hold the transceivers (which hold
/// the core): ``close()`` drops them, breaking the cycle. ``SrtpCore`` calls back weakly.
final class MediaSession: Sendable {
    struct State: Sendable {
        var bindings: [Int: MediaBinding] = [:]
        /// SSRC → transceiver id, for inbound RTP (RTX SSRCs included).
        var routes: [UInt32: Int] = [:]
        var learnt = 0
        /// The next transport-wide sequence number (one counter for every binding that sends).
        var transportSequence = UInt16.random(in: 0...UInt16.max)
        var srtp: SrtpCore?
        var closed = false
        var counters = MediaCounters()
    }

    /// SSRCs learnt from the mid extension, at most (a flood of new SSRCs is dropped, counted).
    static let learntSsrcLimit = 64

    let state = Locked(State())
    let dtls: DtlsTransport
    let logger: Logger
    let control: any MediaControl
    private let outboundFilter = Locked<(@Sendable (RtpPacket) -> Bool)?>(nil)
    private let hasOutboundFilter = Atomic<Bool>(false)

    init(dtls: DtlsTransport, logger: Logger, control: any MediaControl = NoMediaControl()) {
        self.dtls = dtls
        self.logger = logger
        self.control = control
        control.attach(self)
    }

    /// **Test-only** (internal, reached through `@testable import`): outbound RTP (after the
    /// rewrite) for which `filter` returns false is not handed to SRTP but recorded as sent (send
    /// history, counters), as a packet lost on the wire is — to aim a loss at chosen packets, which
    /// cannot be done at the ICE level where everything is encrypted. The filter runs on the
    /// writer's thread with no lock held but the filter slot's (a leaf): it must not call back into
    /// the session. Nil (the default) costs one relaxed atomic load per packet.
    func setOutboundFilter(_ filter: (@Sendable (RtpPacket) -> Bool)?) {
        outboundFilter.withLock { $0 = filter }
        hasOutboundFilter.store(filter != nil, ordering: .relaxed)
    }

    /// Whether the test-only filter lets `packet` go on the wire.
    func passesOutboundFilter(_ packet: RtpPacket) -> Bool {
        guard hasOutboundFilter.load(ordering: .relaxed), let filter = outboundFilter.withLock({ $0 }) else { return true }
        return filter(packet)
    }

    /// The RTCP engine, when the control is one (stats, tests).
    var engine: RtcpEngine? { control as? RtcpEngine }

    var counters: MediaCounters { state.withLock { $0.counters } }
    var srtp: SrtpCore? { state.withLock { $0.srtp } }

    // MARK: Bindings

    /// Registers a transceiver object (created by addTransceiver or for a remote offer's section).
    func add(_ transceiver: RtpTransceiver, ssrc: UInt32, track: LocalTrack?) {
        let closed = state.withLock { s -> Bool in
            guard !s.closed else { return true }
            s.bindings[transceiver.id] = MediaBinding(
                transceiver: transceiver, kind: transceiver.kind, ssrc: ssrc, localTrack: track,
                nextSequenceNumber: UInt16.random(in: 0...UInt16.max))
            return false
        }
        if !closed, let track { track.attach(self, transceiverId: transceiver.id) }
    }

    func transceivers() -> [RtpTransceiver] {
        state.withLock { $0.bindings.values.map(\.transceiver).sorted { $0.id < $1.id } }
    }

    func transceiver(_ id: Int) -> RtpTransceiver? { state.withLock { $0.bindings[id]?.transceiver } }

    /// Removes the bindings whose transceivers the negotiation no longer has (a rollback).
    func retain(ids: Set<Int>) {
        let gone = state.withLock { s -> [(Int, LocalTrack?, RemoteTrack?)] in
            let removed = s.bindings.keys.filter { !ids.contains($0) }
            return removed.compactMap { id in
                s.routes = s.routes.filter { $0.value != id }
                return s.bindings.removeValue(forKey: id).map { (id, $0.localTrack, $0.remoteTrack) }
            }
        }
        for (id, local, remote) in gone {
            local?.detach(self, transceiverId: id)
            remote?.finish()
        }
    }

    func localTrack(_ id: Int) -> LocalTrack? { state.withLock { $0.bindings[id]?.localTrack } }
    func remoteTrack(_ id: Int) -> RemoteTrack? { state.withLock { $0.bindings[id]?.remoteTrack } }
    func ssrc(_ id: Int) -> UInt32? { state.withLock { $0.bindings[id]?.ssrc } }

    /// The negotiated payload type for the sender's track (or the first codec), as a codec.
    func sendPayloadTypes(_ id: Int) -> [String: UInt8] { state.withLock { $0.bindings[id]?.send?.payloadTypes ?? [:] } }

    /// ``RtpSender/replaceTrack(_:)``: the binding's sequence numbers go on.
    func replaceTrack(_ id: Int, with track: LocalTrack?) -> Bool {
        let old = state.withLock { s -> LocalTrack?? in
            guard !s.closed, s.bindings[id] != nil else { return nil }
            defer { s.bindings[id]?.localTrack = track }
            return .some(s.bindings[id]?.localTrack)
        }
        guard let old else { return false }
        if let old, old !== track { old.detach(self, transceiverId: id) }
        if let track, old !== track { track.attach(self, transceiverId: id) }
        return true
    }

    /// Applies what the last completed exchange negotiated: each binding's send and receive
    /// parameters, the peer's announced SSRCs as routes, and SRTP once a section is accepted.
    func update(_ negotiated: [NegotiatedMedia]) {
        let needsSrtp = negotiated.contains { !$0.isRejected } && state.withLock { $0.srtp == nil && !$0.closed }
        if needsSrtp {
            do throws(SrtpError) {
                let srtp = try SrtpCore(dtls: dtls)
                srtp.setPacketHandler { [weak self] packet in self?.receive(packet) }
                let installed = state.withLock { s -> Bool in
                    guard s.srtp == nil, !s.closed else { return false }
                    s.srtp = srtp
                    return true
                }
                if !installed { srtp.close() }
            } catch {
                logger.info("media: SRTP cannot attach: \(error)")
            }
        }
        let transportCcId = state.withLock { s -> UInt8? in
            var transportCcId: UInt8?
            for media in negotiated {
                guard let id = media.transceiverId, s.bindings[id] != nil else { continue }
                guard !media.isRejected else {
                    s.bindings[id]?.send = nil
                    s.bindings[id]?.receive = nil
                    continue
                }
                let midId = media.extensionId(RtpHeaderExtensionParameters.midUri)
                var types: [String: UInt8] = [:]
                for codec in media.codecs where !codec.isRtx {
                    let mime = codec.mimeType(kind: media.kind).lowercased()
                    if types[mime] == nil { types[mime] = codec.payloadType }
                }
                let twccId = media.extensionId(RtpHeaderExtensionParameters.transportWideCcUri)
                if media.direction.receives, transportCcId == nil { transportCcId = twccId }
                s.bindings[id]?.send =
                    media.direction.sends
                    ? MediaBinding.Send(mid: media.mid, codecs: media.codecs, payloadTypes: types, midExtensionId: midId, transportCcExtensionId: twccId)
                    : nil
                var fid: [UInt32: UInt32] = [:]
                for pair in media.remoteFidGroups { fid[pair.rtx] = pair.media }
                s.bindings[id]?.receive =
                    media.direction.receives
                    ? MediaBinding.Receive(
                        mid: media.mid, codecs: media.codecs, payloadTypes: Set(media.codecs.filter { !$0.isRtx }.map(\.payloadType)),
                        rtx: Dictionary(media.rtx.map { ($0.payloadType, $0.apt) }, uniquingKeysWith: { a, _ in a }),
                        midExtensionId: midId, remoteSsrcs: media.remoteSsrcs, fid: fid)
                    : nil
                for ssrc in media.remoteSsrcs { s.routes[ssrc] = id }
            }
            return transportCcId
        }
        control.setTransportCc(extensionId: transportCcId)
    }

    /// Gives the binding a remote track (the `track` event); nil when it has one already.
    func announceRemoteTrack(_ id: Int, make: () -> RemoteTrack) -> RemoteTrack? {
        state.withLock { s -> RemoteTrack? in
            guard !s.closed, let binding = s.bindings[id], !binding.trackAnnounced else { return nil }
            let track = binding.remoteTrack ?? make()
            s.bindings[id]?.remoteTrack = track
            s.bindings[id]?.trackAnnounced = true
            return track
        }
    }

    // MARK: Close

    /// Every track stream finishes, SRTP closes, the bindings (and the cycle through the
    /// transceivers) go. Idempotent.
    func close() {
        let (bindings, srtp) = state.withLock { s -> ([MediaBinding], SrtpCore?) in
            guard !s.closed else { return ([], nil) }
            s.closed = true
            defer {
                s.bindings = [:]
                s.routes = [:]
                s.srtp = nil
            }
            return (Array(s.bindings.values), s.srtp)
        }
        control.close()
        srtp?.close()
        for binding in bindings {
            binding.localTrack?.detach(self)
            binding.remoteTrack?.finish()
        }
    }
}
