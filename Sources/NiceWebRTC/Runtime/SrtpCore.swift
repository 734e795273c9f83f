import Logging
import NiceICE
import NiceWebRTCCore
import Synchronization

/// SRTP and SRTCP on a DTLS transport's ICE component (RFC 5764, RFC 7983, rtcp-mux): the media
/// layer a peer connection attaches when media is negotiated.
///
/// Once DTLS is `connected` with a negotiated DTLS-SRTP profile it owns two ``SrtpSession``s keyed
/// from the handshake: the outbound one with our DTLS role's write keys, the inbound one with the
/// peer's (RFC 5764 §4.2). ``sendRtp(_:)`` / ``sendRtcp(_:)`` protect a packet and send it over
/// ICE component 1 (no DTLS record around it); datagrams whose first byte is 128–191 come from
/// ``DtlsCore`` still protected, are unprotected and go to the packet handler, RTCP told from RTP
/// by the packet type (192–223, RFC 5761 §4). Packets before the keys, forged (auth failure) or
/// replayed are dropped and counted, never delivered.
///
/// **Threads and locks.** Any method from any thread. Each session has its own lock (`inbound`:
/// the context thread unprotects under it; `outbound`: senders protect under it), so receiving
/// never waits for a sender. Both are leaves: nothing else is locked and nothing is called under
/// them. The keys are read from ``DtlsCore`` (its engine lock) with no lock of ours held, the
/// protected packet goes to `IceTransport.send` after `outbound` is released, and the handler
/// runs with no lock held. Lock order: `DtlsCore`'s engine and SrtpCore's locks are never nested.
///
/// **Lifetime.** The owner keeps the layer; ``DtlsCore`` holds it weakly. DTLS `closed` or `failed`
/// (or ``close()``) releases both sessions and the handler.
package final class SrtpCore: DtlsMediaLayer, Sendable {
    /// One unprotected packet from the peer.
    package struct Packet: Sendable, Equatable {
        package enum Kind: Sendable, Equatable { case rtp, rtcp }
        package let kind: Kind
        package let bytes: [UInt8]
    }

    /// One session and whether the layer closed. Not `Sendable` (the session is not): only
    /// touched inside its `Confined`.
    struct Slot {
        var session: SrtpSession?
        var closed = false
    }

    private let dtls: DtlsCore
    private let logger: Logger
    private let inbound = Confined(Slot())
    private let outbound = Confined(Slot())
    /// The handler in a struct, not as a bare closure: `Locked.withLock` is generic and not
    /// inlinable here (another module), so an `inout` closure value would be reabstracted on the
    /// way in and written back through a new thunk on the way out — every packet's read would
    /// add two thunks to the chain the next packet walks (found by the forwarding benchmark).
    private struct Handler { let body: @Sendable (Packet) -> Void }
    private let handler = Locked<Handler?>(nil)
    /// Why keying failed (a profile libsrtp cannot do), once it did: what senders are told.
    private let keyingError = Locked<SrtpError?>(nil)
    private let profileSlot = Locked<SrtpProfile?>(nil)
    private let keyed = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)

    private let rtpSent = Atomic<UInt64>(0), rtpBytesSent = Atomic<UInt64>(0)
    private let rtcpSent = Atomic<UInt64>(0), rtcpBytesSent = Atomic<UInt64>(0)
    private let rtpReceived = Atomic<UInt64>(0), rtpBytesReceived = Atomic<UInt64>(0)
    private let rtcpReceived = Atomic<UInt64>(0), rtcpBytesReceived = Atomic<UInt64>(0)
    private let authFailures = Atomic<UInt64>(0), replays = Atomic<UInt64>(0)
    private let beforeKeys = Atomic<UInt64>(0), malformed = Atomic<UInt64>(0)
    private let unprotectFailures = Atomic<UInt64>(0), sendFailures = Atomic<UInt64>(0)

    /// Attaches the media layer to `dtls` (before or after it connected).
    ///
    /// - Throws: ``SrtpError`` `closed` when the transport is closed, `invalidState` when it has a
    ///   media layer already, `initFailed` when libsrtp could not be initialised.
    package init(dtls: DtlsTransport) throws(SrtpError) {
        guard Srtp.setup.initStatus == 0 else {
            throw SrtpError(.initFailed, status: Srtp.setup.initStatus, reason: "srtp_init failed")
        }
        self.dtls = dtls.core
        logger = dtls.core.logger
        switch dtls.core.attachMediaLayer(self) {
        case .attached: break
        case .closed: throw SrtpError(.closed, reason: "the DTLS transport is closed")
        case .taken: throw SrtpError(.invalidState, reason: "the DTLS transport has a media layer already")
        }
        dtlsStateDidChange()  // connected already: key now
    }

    // MARK: Package API

    /// Sets what receives each unprotected packet (nil stops delivery; packets then are counted
    /// and dropped). Called on the context thread, in arrival order, with no lock held: it must
    /// return quickly and never block (the layer above queues per track).
    package func setPacketHandler(_ body: (@Sendable (Packet) -> Void)?) {
        handler.withLock { $0 = closed.load(ordering: .acquiring) ? nil : body.map(Handler.init) }
    }

    /// Protects one RTP packet and sends it over ICE. Any thread; never blocks.
    ///
    /// - Throws: ``SrtpError`` `notReady` before DTLS connected with an SRTP profile,
    ///   `malformedPacket` for fewer than 12 bytes, a version other than 2 or a payload type
    ///   that reads as RTCP (RFC 5761 §4), `closed`, `unsupportedProfile`, `sendFailed` (ICE
    ///   refused it), or libsrtp's refusal.
    package func sendRtp(_ packet: [UInt8]) throws(SrtpError) {
        guard packet.count >= 12, packet[0] >> 6 == 2, !Self.isRtcp(packet[1]) else {
            throw SrtpError(.malformedPacket, reason: "not an RTP packet")
        }
        try send(packet, rtcp: false)
    }

    /// Protects one RTCP (compound) packet and sends it over ICE. Any thread; never blocks.
    ///
    /// - Throws: as ``sendRtp(_:)``; `malformedPacket` for fewer than 8 bytes or a first packet
    ///   type outside 192–223.
    package func sendRtcp(_ packet: [UInt8]) throws(SrtpError) {
        guard packet.count >= 8, packet[0] >> 6 == 2, Self.isRtcp(packet[1]) else {
            throw SrtpError(.malformedPacket, reason: "not an RTCP packet")
        }
        try send(packet, rtcp: true)
    }

    /// The negotiated profile, once keyed.
    package var profile: SrtpProfile? { profileSlot.withLock { $0 } }

    /// True once both sessions exist.
    package var isKeyed: Bool { keyed.load(ordering: .acquiring) }

    package var counters: SrtpCounters {
        SrtpCounters(
            rtpPacketsSent: rtpSent.load(ordering: .relaxed), rtpBytesSent: rtpBytesSent.load(ordering: .relaxed),
            rtcpPacketsSent: rtcpSent.load(ordering: .relaxed), rtcpBytesSent: rtcpBytesSent.load(ordering: .relaxed),
            rtpPacketsReceived: rtpReceived.load(ordering: .relaxed), rtpBytesReceived: rtpBytesReceived.load(ordering: .relaxed),
            rtcpPacketsReceived: rtcpReceived.load(ordering: .relaxed), rtcpBytesReceived: rtcpBytesReceived.load(ordering: .relaxed),
            authFailures: authFailures.load(ordering: .relaxed), replays: replays.load(ordering: .relaxed),
            droppedBeforeKeys: beforeKeys.load(ordering: .relaxed), malformedDropped: malformed.load(ordering: .relaxed),
            unprotectFailures: unprotectFailures.load(ordering: .relaxed), sendFailures: sendFailures.load(ordering: .relaxed))
    }

    /// Releases both sessions and the handler; later sends throw `closed`, later packets are
    /// dropped (counted as before keys). Does not close the DTLS transport. Idempotent.
    package func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // The sessions are freed outside the locks (their deinit calls srtp_dealloc).
        let a = inbound.withLock { s -> SrtpSession? in
            s.closed = true
            defer { s.session = nil }
            return s.session
        }
        let b = outbound.withLock { s -> SrtpSession? in
            s.closed = true
            defer { s.session = nil }
            return s.session
        }
        _ = (a, b)
        let h = handler.withLock { h in
            defer { h = nil }
            return h
        }
        _ = h  // released here, outside the lock
        keyed.store(false, ordering: .releasing)
    }

    /// RFC 5761 §4: RTCP's packet types 192–223 sit where RTP's marker bit and payload types
    /// 64–95 would; the second byte tells them apart.
    static func isRtcp(_ secondByte: UInt8) -> Bool { (192...223).contains(secondByte) }

    // MARK: DtlsMediaLayer (no DTLS lock held)

    func dtlsStateDidChange() {
        switch dtls.change.state {
        case .closed, .failed: close()
        case .connected: installKeysIfReady()
        case .new, .connecting: break
        }
    }

    func dtlsDidReceiveMedia(_ bytes: UnsafeRawBufferPointer) {
        // The second byte is there: RFC 7983 put it here by its first, and an RTCP header has 8.
        guard bytes.count >= 8 else {
            malformed.wrappingAdd(1, ordering: .relaxed)
            return
        }
        let rtcp = Self.isRtcp(bytes[1])
        guard rtcp || bytes.count >= 12 else {
            malformed.wrappingAdd(1, ordering: .relaxed)
            return
        }
        if !keyed.load(ordering: .acquiring) { installKeysIfReady() }
        var packet = Array(bytes)
        let result = inbound.withLock { s -> Result<Void, SrtpError>? in
            guard let session = s.session else { return nil }
            do throws(SrtpError) {
                if rtcp { try session.unprotectRtcp(&packet) } else { try session.unprotectRtp(&packet) }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case nil:
            beforeKeys.wrappingAdd(1, ordering: .relaxed)
        case .failure(let error):
            switch error.code {
            case .authFail: authFailures.wrappingAdd(1, ordering: .relaxed)
            case .replayFail, .replayOld: replays.wrappingAdd(1, ordering: .relaxed)
            case .malformedPacket: malformed.wrappingAdd(1, ordering: .relaxed)
            default: unprotectFailures.wrappingAdd(1, ordering: .relaxed)
            }
        case .success:
            if rtcp {
                rtcpReceived.wrappingAdd(1, ordering: .relaxed)
                rtcpBytesReceived.wrappingAdd(UInt64(packet.count), ordering: .relaxed)
            } else {
                rtpReceived.wrappingAdd(1, ordering: .relaxed)
                rtpBytesReceived.wrappingAdd(UInt64(packet.count), ordering: .relaxed)
            }
            handler.withLock { $0 }?.body(Packet(kind: rtcp ? .rtcp : .rtp, bytes: packet))
        }
    }

    // MARK: Inside

    private func send(_ packet: [UInt8], rtcp: Bool) throws(SrtpError) {
        if !keyed.load(ordering: .acquiring) { installKeysIfReady() }
        // One allocation: room for libsrtp's trailer up front (SrtpSession grows into it).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(packet.count + SrtpSession.rtcpTrailerCapacity)
        bytes.append(contentsOf: packet)
        let protected = outbound.withLock { s -> Result<Void, SrtpError> in
            guard !s.closed else { return .failure(SrtpError(.closed, reason: "the media layer is closed")) }
            guard let session = s.session else {
                return .failure(keyingError.withLock { $0 } ?? SrtpError(.notReady, reason: "no SRTP keys: DTLS has not connected with a DTLS-SRTP profile"))
            }
            do throws(SrtpError) {
                if rtcp { try session.protectRtcp(&bytes) } else { try session.protectRtp(&bytes) }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try protected.get()
        do throws(IceError) {
            try dtls.connection.send(bytes)
        } catch {
            sendFailures.wrappingAdd(1, ordering: .relaxed)
            throw SrtpError(.sendFailed, reason: "ICE: \(error.code.rawValue): \(error.reason)")
        }
        if rtcp {
            rtcpSent.wrappingAdd(1, ordering: .relaxed)
            rtcpBytesSent.wrappingAdd(UInt64(packet.count), ordering: .relaxed)
        } else {
            rtpSent.wrappingAdd(1, ordering: .relaxed)
            rtpBytesSent.wrappingAdd(UInt64(packet.count), ordering: .relaxed)
        }
    }

    /// Creates both sessions from the handshake's keys once DTLS connected (no lock of ours held
    /// while the keys are read; concurrent callers may both build sessions: the first installed
    /// wins, both built from the same keys).
    private func installKeysIfReady() {
        guard !keyed.load(ordering: .acquiring), !closed.load(ordering: .acquiring),
            keyingError.withLock({ $0 }) == nil, let (keys, localIsClient) = dtls.srtpKeys
        else { return }
        let out = keys.outbound(localIsClient: localIsClient)
        let into = keys.inbound(localIsClient: localIsClient)
        let sessions: (SrtpSession, SrtpSession)
        do throws(SrtpError) {
            sessions = (
                try SrtpSession(profile: keys.profile, key: out.key, salt: out.salt, direction: .outbound),
                try SrtpSession(profile: keys.profile, key: into.key, salt: into.salt, direction: .inbound)
            )
        } catch {
            keyingError.withLock { $0 = error }
            logger.info("SRTP keying failed: \(error)")
            return
        }
        let installedOut = outbound.withLock { s -> Bool in
            guard !s.closed, s.session == nil else { return false }
            s.session = sessions.0
            return true
        }
        let installedIn = inbound.withLock { s -> Bool in
            guard !s.closed, s.session == nil else { return false }
            s.session = sessions.1
            return true
        }
        guard installedOut || installedIn else { return }
        profileSlot.withLock { $0 = keys.profile }
        keyed.store(true, ordering: .releasing)
        logger.debug("SRTP keyed: \(keys.profile.rawValue), local DTLS \(localIsClient ? "client" : "server")")
    }
}

/// What went through a media layer, read from atomics.
package struct SrtpCounters: Sendable, Hashable {
    /// RTP packets (and their unprotected bytes) protected and accepted by ICE.
    package var rtpPacketsSent: UInt64
    package var rtpBytesSent: UInt64
    /// RTCP packets (and their unprotected bytes) protected and accepted by ICE.
    package var rtcpPacketsSent: UInt64
    package var rtcpBytesSent: UInt64
    /// RTP packets (and their unprotected bytes) that authenticated and were delivered.
    package var rtpPacketsReceived: UInt64
    package var rtpBytesReceived: UInt64
    /// RTCP packets (and their unprotected bytes) that authenticated and were delivered.
    package var rtcpPacketsReceived: UInt64
    package var rtcpBytesReceived: UInt64
    /// SRTP/SRTCP packets whose authentication tag did not verify.
    package var authFailures: UInt64
    /// Packets refused by the replay window (repeated, or older than the window).
    package var replays: UInt64
    /// Packets that arrived before the keys (DTLS not connected yet, no profile) or after close.
    package var droppedBeforeKeys: UInt64
    /// Datagrams too short for an RTP or RTCP header.
    package var malformedDropped: UInt64
    /// Packets libsrtp refused for another reason.
    package var unprotectFailures: UInt64
    /// Protected packets ICE refused.
    package var sendFailures: UInt64
}
