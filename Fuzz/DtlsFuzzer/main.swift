// libFuzzer entry point for the DTLS record input path: hostile datagrams arriving from the
// network into a `DtlsSession` (Sources/NiceWebRTC/Binding/DtlsSession.swift), during a real
// handshake and into an established session.
//
// Built by Fuzz/dtls-run.sh (see there). Each input gets a fresh server and client session over
// two certificates made once per process; their `output`s feed queues (Harness.swift), so the
// fuzzer decides what reaches whom, when, and what else arrives.
//
// Input: one header byte, then operations, each `kind, length (2 bytes, big-endian), payload`
// (a length beyond the input is cut to what is left; at most 64 operations).
//   header bit 0: mode. 0 = handshake: the client starts, the operations run during the handshake,
//                 then the queues are drained (with timer rounds) to completion.
//                 1 = established: a clean in-memory handshake and two application datagrams
//                 each way first, then the operations.
//   header bit 1: the target, which hostile datagrams go to: 0 = the server, 1 = the client.
//   kind % 11:
//     0 RAW      the payload is a datagram into the target.
//     1 REPLAY   a datagram either side sent in this input (payload[0] picks it, modulo the count),
//                verbatim into the target.
//     2 MUTATE   a sent datagram (payload[0]), then payload[1...2] an offset: with no more bytes,
//                truncated there; otherwise the remaining bytes are XORed in from the offset
//                (appended past the end). Into the target.
//     3 CONCAT   the sent datagrams picked by each payload byte (at most 16), as one datagram.
//     4 STEP     delivers queued datagrams: payload[0] bit 0 the sender (0 client, 1 server), bits
//                1-3 the count - 1; no payload: one each way.
//     5 DROP     loses the next queued datagram of the sender payload[0] bit 0 (0 client, 1 server).
//     6 WRITE    payload[0] bit 0: 0 the target's peer, 1 the target writes payload[1...] (behind
//                a 4-byte tag that makes every datagram unique); queued like any other.
//     7 TIMER    the virtual clock advances (payload[0] + 1) * 20 ms (2.1 s without payload), then
//                the timer fires on both sides (payload[1] % 3: 0 both, 1 server, 2 client).
//     8 CLOSE    payload[0] bit 0: 0 the target's peer, 1 the target calls close().
//     9 FRAME    records built around fuzz bytes, framed correctly, as one datagram into the
//                target: the payload is a run of `type, epoch, sequence, n, n bytes of body`, each
//                a record `type FE FD 00 epoch 00 00 00 00 00 sequence n(16 bits) body`.
//    10 RESIZE   a sent datagram (payload[0]) with its record payload[1] (modulo the count) cut
//                or zero-padded to payload[2...3] bytes, its length field set to match.
//
// Invariants (a violation traps, leaving the reproducer):
// - no crash, no leak (ASan/LeakSanitizer), bounded work per input; the process's allocated
//   bytes (ASan's count, OpenSSL's included) grow by at most 24 MiB during one input;
// - every outcome matches the session's phase; phases only move forward; a phase change is
//   always reported by an outcome (the owner, DtlsCore, only learns from outcomes);
// - a session that is connected has verified the peer's certificate: the fingerprint presented
//   is the one expected;
// - application data is delivered only as written by the peer, byte-exact, and at most once
//   (replays, reflections and forgeries never get through); close_notify only when the peer
//   closed;
// - handshake mode: if both sides connected, a datagram each way round-trips byte-exact exactly
//   once and both export the same keying material, cipher and SRTP profile; with nothing but
//   loss, duplication of genuine datagrams, timers and writes (no hostile operation), the
//   handshake completes unless a side gave up retransmitting (handshakeTimeout);
// - established mode: nothing the target receives fails either session; unless a side called
//   close(), both stay connected, a fresh datagram each way is delivered byte-exact exactly once,
//   replaying every datagram of the input into both sides delivers nothing again and breaks
//   nothing, and the peer's close_notify then closes the target.
//
// `--write-seeds DIR` and `--write-reproducers DIR` (handled in LLVMFuzzerInitialize) write the
// seed corpus and the reproducers of known bugs (Seeds.swift). DTLS_FUZZ_TRACE=1 prints what
// each input did: `DTLS_FUZZ_TRACE=1 Fuzz/.build/dtls-fuzzer FILE`. DTLS_FUZZ_TOLERATE_MASKED_OUTCOME=1
// lets exploratory runs go past the open bug in Fuzz/dtls-reproducers/ (never set by dtls-run.sh).

#if canImport(Glibc)
import Glibc
#endif
import NiceWebRTCCore

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
    _ argc: UnsafeMutablePointer<CInt>?,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    SeedWriter.handleCommandLine()
    _ = identities  // made before the first input, so LeakSanitizer never counts them
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    runInput(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

struct Operation {
    var kind: UInt8
    var payload: ArraySlice<UInt8>
}

func parseOperations(_ input: [UInt8]) -> [Operation] {
    var operations: [Operation] = []
    var i = 1
    while i < input.count, operations.count < 64 {
        let kind = input[i] % 11
        let length = i + 2 < input.count ? Int(input[i + 1]) << 8 | Int(input[i + 2]) : 0
        let start = min(i + 3, input.count)
        let end = min(start + length, input.count)
        operations.append(Operation(kind: kind, payload: input[start..<end]))
        i = end
    }
    return operations
}

func runInput(_ input: [UInt8]) {
    virtualClockOffset = 0
    let mode: Link.Mode = input[0] & 1 == 0 ? .handshake : .established
    let target: Side = input[0] & 2 == 0 ? .server : .client
    let link = Link(mode: mode)
    Feedback.hit(7, UInt64(input[0] & 3))
    switch mode {
    case .handshake:
        link.start()
        for operation in parseOperations(input) { link.apply(operation, target: target) }
        finishHandshakeMode(link)
    case .established:
        establish(link)
        for operation in parseOperations(input) { link.apply(operation, target: target) }
        finishEstablishedMode(link, target: target)
    }
    if traceInputs {
        let failures = link.failure.map { $0.map { "\($0)" } ?? "-" }
        SeedWriter.printError(
            "input: mode \(mode), target \(target); \(link.trace.joined(separator: " "))\n"
                + "  end: server \(link.phase(.server)) (\(failures[0])), client \(link.phase(.client)) (\(failures[1])), "
                + "\(link.tap.captured.count) datagrams sent, \(link.deliveredTags[0].count + link.deliveredTags[1].count) delivered, "
                + "memory +\(((allocatedBytes?() ?? 0) - link.baseline) >> 10) KiB\n")
    }
}

/// DTLS_FUZZ_TRACE=1 prints each input's operations and end state (for reading a reproducer).
let traceInputs = getenv("DTLS_FUZZ_TRACE") != nil

extension Link {
    func apply(_ operation: Operation, target: Side) {
        let p = operation.payload
        let p0 = p.first ?? 0
        let p1 = p.count > 1 ? p[p.startIndex + 1] : 0
        func pick(_ b: UInt8) -> Tap.Captured? {
            tap.captured.isEmpty ? nil : tap.captured[Int(b) % tap.captured.count]
        }
        switch operation.kind {
        case 0:
            trace.append("RAW(\(p.count))")
            hostile = true
            receive(Array(p), at: target)
        case 1:
            guard let c = pick(p0) else { return trace.append("REPLAY(-)") }
            trace.append("REPLAY(\(Int(p0) % tap.captured.count))")
            if c.from != target.peer { hostile = true }  // a reflection; a peer's datagram is a duplicate
            receive(c.bytes, at: target)
        case 2:
            guard let c = pick(p0) else { return trace.append("MUTATE(-)") }
            hostile = true
            var d = c.bytes
            let rest = p.dropFirst()
            let offset = rest.count >= 2 ? Int(rest[rest.startIndex]) << 8 | Int(rest[rest.startIndex + 1]) : 0
            let patch = rest.dropFirst(2)
            if patch.isEmpty {
                d = Array(d.prefix(offset % (d.count + 1)))
            } else {
                let start = offset % max(d.count, 1)
                for (k, b) in patch.enumerated() {
                    if start + k < d.count { d[start + k] ^= b } else { d.append(b) }
                }
            }
            trace.append("MUTATE(\(Int(p0) % tap.captured.count)@\(offset),\(patch.count))")
            receive(d, at: target)
        case 3:
            hostile = true
            var d: [UInt8] = []
            for b in p.prefix(16) { if let c = pick(b) { d += c.bytes } }
            trace.append("CONCAT(\(p.prefix(16).map { "\(Int($0) % max(tap.captured.count, 1))" }.joined(separator: "+")))")
            if !d.isEmpty { receive(d, at: target) }
        case 4:
            if p.isEmpty {
                trace.append("STEP")
                step(from: .client, count: 1)
                step(from: .server, count: 1)
            } else {
                let sender: Side = p0 & 1 == 0 ? .client : .server
                let count = Int(p0 >> 1 & 7) + 1
                trace.append("STEP(\(sender)x\(count))")
                step(from: sender, count: count)
            }
        case 5:
            let sender: Side = p0 & 1 == 0 ? .client : .server
            trace.append("DROP(\(sender))")
            drop(from: sender)
        case 6:
            let writer = p0 & 1 == 0 ? target.peer : target
            trace.append("WRITE(\(writer),\(max(p.count - 1, 0)))")
            write(p.dropFirst(), from: writer)
        case 7:
            let advance = p.isEmpty ? 2_100_000 : (Int64(p0) + 1) * 20_000
            let sides: [Side] = [[.server, .client], [.server], [.client]][Int(p1 % 3)]
            trace.append("TIMER(+\(advance / 1000)ms)")
            timer(advance: advance, sides: sides)
        case 8:
            let side = p0 & 1 == 0 ? target.peer : target
            trace.append("CLOSE(\(side))")
            hostile = true
            close(side)
        case 9:
            hostile = true
            var d: [UInt8] = []
            var rest = p
            var records = 0
            while rest.count >= 4, records < 64 {
                let h = Array(rest.prefix(4))
                let body = rest.dropFirst(4).prefix(Int(h[3]))
                d += [h[0], 0xFE, 0xFD, 0, h[1], 0, 0, 0, 0, 0, h[2], 0, UInt8(body.count)] + body
                rest = rest.dropFirst(4 + body.count)
                records += 1
            }
            trace.append("FRAME(\(records))")
            if records > 0 { receive(d, at: target) }
        default:
            guard let c = pick(p0), p.count >= 4 else { return trace.append("RESIZE(-)") }
            hostile = true
            var records = recordBounds(c.bytes)
            guard !records.isEmpty else { return trace.append("RESIZE(-)") }
            let r = Int(p1) % records.count
            let wanted = Int(p[p.startIndex + 2]) << 8 | Int(p[p.startIndex + 3])
            var d = c.bytes
            let (start, length) = records[r]
            var body = Array(d[(start + 13)..<(start + 13 + length)])
            if wanted < body.count { body = Array(body.prefix(wanted)) } else { body += [UInt8](repeating: 0, count: min(wanted - body.count, 20_000)) }
            d[start + 11] = UInt8(body.count >> 8 & 0xFF)
            d[start + 12] = UInt8(body.count & 0xFF)
            d.replaceSubrange((start + 13)..<(start + 13 + length), with: body)
            records.removeAll()
            trace.append("RESIZE(\(Int(p0) % tap.captured.count):\(r)->\(body.count))")
            receive(d, at: target)
        }
        let tt: UInt64 = session(target).timeoutMicroseconds == nil ? 0 : 1
        let pt: UInt64 = session(target.peer).timeoutMicroseconds == nil ? 0 : 1
        Feedback.hit(
            3, UInt64(mode.rawValue) << 8 | UInt64(operation.kind),
            phaseCode(phase(target)) << 4 | phaseCode(phase(target.peer)), tt << 1 | pt)
    }

    /// The records of a datagram as (start, body length), as far as they are framed.
    func recordBounds(_ d: [UInt8]) -> [(Int, Int)] {
        var bounds: [(Int, Int)] = []
        var offset = 0
        while offset + 13 <= d.count, bounds.count < 64 {
            let length = Int(d[offset + 11]) << 8 | Int(d[offset + 12])
            guard offset + 13 + length <= d.count else { break }
            bounds.append((offset, length))
            offset += 13 + length
        }
        return bounds
    }

    func phaseCode(_ phase: DtlsSession.Phase) -> UInt64 {
        switch phase {
        case .handshaking: 0
        case .connected: 1
        case .closed: 2
        case .failed: 3
        }
    }
}

/// Handshake mode, after the operations: deliver what is queued, and while a side still
/// handshakes, let both timers fire (2.1 s: past the longest retransmission timeout) and again.
func finishHandshakeMode(_ link: Link) {
    link.trace.append("|finish")
    for _ in 0..<16 {
        link.drain()
        if link.phase(.server) != .handshaking && link.phase(.client) != .handshaking { break }
        link.timer(advance: 2_100_000, sides: [.server, .client])
    }
    link.drain()
    if link.reportedConnected == [true, true], link.bothConnected {
        link.roundTrip(from: .client, size: 100)
        link.roundTrip(from: .server, size: 1200)
        link.checkAgreement()
        Feedback.hit(8, 1)
    }
    if !link.hostile && !link.maskedOutcome {
        // Loss, duplication and timers only: DTLS retransmission must carry the handshake through,
        // unless a side ran out of retransmissions.
        let timedOut = link.failure.contains { $0 == .handshakeTimeout }
        for side in Side.allCases where link.failure[side.rawValue] != nil && link.failure[side.rawValue] != .handshakeTimeout {
            link.fail("on a lossy but honest network, the \(side) failed: \(link.failure[side.rawValue]!)")
        }
        if !timedOut && !link.bothConnected {
            link.fail("on a lossy but honest network, the handshake did not complete (and nobody timed out)")
        }
    }
}

/// Established mode, before the operations: a clean handshake, two datagrams each way.
func establish(_ link: Link) {
    link.start()
    link.drain()
    guard link.reportedConnected == [true, true], link.bothConnected else {
        link.fail("the clean in-memory handshake did not complete")
    }
    link.roundTrip(from: .client, size: 40)
    link.roundTrip(from: .client, size: 300)
    link.roundTrip(from: .server, size: 40)
    link.roundTrip(from: .server, size: 1100)
    link.trace.append("|established")
}

func finishEstablishedMode(_ link: Link, target: Side) {
    link.trace.append("|finish")
    link.drain()
    guard !link.closeCalled.contains(true) else {
        // Someone closed: the sessions may be closed, but nothing failed (observe checked that).
        return
    }
    for side in Side.allCases where link.phase(side) != .connected {
        link.fail("hostile input ended the established \(side) (phase \(link.phase(side)))")
    }
    link.roundTrip(from: target.peer, size: 64)
    link.roundTrip(from: target, size: 64)
    link.checkAgreement()
    // Every datagram of this input again, into the target and then into its peer.
    let all = link.tap.captured
    link.trace.append("|replay-all(\(all.count))")
    for c in all { link.receive(c.bytes, at: target) }
    link.drain()
    for c in all { link.receive(c.bytes, at: target.peer) }
    link.drain()
    for side in Side.allCases where link.phase(side) != .connected {
        link.fail("replaying genuine datagrams ended the \(side) (phase \(link.phase(side)))")
    }
    link.roundTrip(from: target.peer, size: 500)
    link.roundTrip(from: target, size: 500)
    // The peer closes: the target must learn it, once.
    link.trace.append("|close")
    link.close(target.peer)
    let notify = link.queue(target.peer)
    link.tap.queues[target.peer.rawValue].removeAll()
    guard !notify.isEmpty else { link.fail("close() sent no close_notify") }
    var outcomes: [DtlsSession.Outcome] = []
    for d in notify { outcomes.append(link.receive(d, at: target)) }
    guard outcomes.filter({ $0 == .closedByPeer }).count == 1, link.phase(target) == .closed else {
        link.fail("the peer's close_notify gave the \(target) \(outcomes), phase \(link.phase(target))")
    }
    for d in notify { link.receive(d, at: target) }
    if link.write([1, 2, 3], from: target) != nil { link.fail("write succeeded after close_notify") }
    Feedback.hit(8, 2)
}
