// 12. SRTP protect + unprotect per packet (each profile the library offers and libsrtp supports
// here) next to a DTLS application record of the same size, in the same run, through the library's
// own funnels (SrtpSession, DtlsSession) via the `Benchmarks` SPI: no network, one thread.
import Foundation
@_spi(Benchmarks) import NiceWebRTC

#if canImport(Glibc)
import Glibc
#endif

/// CPU time of the calling thread in nanoseconds (robust against the machine's other load: time
/// the thread spends preempted is not counted).
@inline(__always)
func threadCPUNowNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// One RTP packet of `size` bytes (12-byte header, VP8-like payload), sequence number `seq`.
func syntheticRtp(size: Int, seq: UInt16, reserve: Int) -> [UInt8] {
    var p: [UInt8] = []
    p.reserveCapacity(size + reserve)
    p += [0x80, 96, UInt8(seq >> 8), UInt8(seq & 0xFF), 0, 0, 0x0B, 0xB8, 0x12, 0x34, 0x56, 0x78]
    p += (0..<(size - 12)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seq)) }
    return p
}

/// For `runs` runs: a batch of `batch` packets of `size` bytes protected (timed), then unprotected
/// (timed), per SRTP profile and for a DTLS record; the figures are thread CPU ns per packet
/// (wall ns logged next to them). The order of the kinds rotates from run to run.
func benchSrtpCost(size: Int, batch: Int, runs: Int, idleSessions: Int) {
    let profiles = SrtpPacketProbe.supportedProfiles
    guard !profiles.isEmpty else { die(4, "libsrtp supports none of the offered profiles here") }
    var probes: [(name: String, probe: SrtpPacketProbe)] = []
    for p in profiles {
        do {
            probes.append((p, try SrtpPacketProbe(profile: p)))
        } catch {
            die(4, "SRTP probe \(p): \(error)")
        }
    }
    let dtls: DtlsRecordProbe
    do {
        dtls = try DtlsRecordProbe()
    } catch {
        die(4, "DTLS probe: \(error)")
    }
    log("srtp_cost: \(size)-B packets, batches of \(batch), \(runs) runs; SRTP profiles \(profiles.joined(separator: ", ")); DTLS \(dtls.cipherSuite ?? "?")")
    let short = ["SRTP_AEAD_AES_128_GCM": "gcm", "SRTP_AES128_CM_SHA1_80": "cm-sha1-80", "SRTP_AEAD_AES_256_GCM": "gcm256", "SRTP_AES128_CM_SHA1_32": "cm-sha1-32"]
    var seqs = [UInt16](repeating: 0, count: probes.count)
    var results: [String: [Double]] = [:]
    let plaintext = (0..<size).map { UInt8(truncatingIfNeeded: $0) }
    func record(_ bench: String, _ run: Int, cpu: UInt64, wall: UInt64) {
        let v = Double(cpu) / Double(batch)
        results[bench, default: []].append(v)
        emitRun(bench, run, v, "ns/pkt")
        log("\(bench) run \(run): \(fmt(v)) ns CPU/packet (wall \(fmt(Double(wall) / Double(batch))) ns)")
    }
    func srtp(_ i: Int, _ run: Int) {
        let (name, probe) = probes[i]
        let reserve = SrtpPacketProbe.trailerCapacity
        var packets = (0..<batch).map { k in syntheticRtp(size: size, seq: seqs[i] &+ UInt16(truncatingIfNeeded: k), reserve: reserve) }
        seqs[i] &+= UInt16(truncatingIfNeeded: batch)
        let w0 = nowNs(), c0 = threadCPUNowNs()
        do {
            for k in packets.indices { try probe.protect(&packets[k]) }
        } catch {
            die(4, "\(name) protect: \(error)")
        }
        let c1 = threadCPUNowNs(), w1 = nowNs()
        do {
            for k in packets.indices { try probe.unprotect(&packets[k]) }
        } catch {
            die(4, "\(name) unprotect: \(error)")
        }
        let c2 = threadCPUNowNs(), w2 = nowNs()
        guard packets.allSatisfy({ $0.count == size }) else { die(4, "\(name): a packet did not round-trip") }
        let key = "srtp_cost-\(short[name] ?? name)"
        record(key + "-protect", run, cpu: c1 - c0, wall: w1 - w0)
        record(key + "-unprotect", run, cpu: c2 - c1, wall: w2 - w1)
        results[key + "-both", default: []].append(Double(c2 - c0) / Double(batch))
    }
    func dtlsRun(_ run: Int) {
        var records: [[UInt8]] = []
        records.reserveCapacity(batch)
        let w0 = nowNs(), c0 = threadCPUNowNs()
        let ok = plaintext.withUnsafeBytes { p in
            (0..<batch).allSatisfy { _ in dtls.protect(p, into: &records) }
        }
        let c1 = threadCPUNowNs(), w1 = nowNs()
        var delivered = 0
        for r in records { delivered += dtls.unprotect(r) }
        let c2 = threadCPUNowNs(), w2 = nowNs()
        guard ok, records.count == batch, delivered == batch * size else {
            die(4, "DTLS: \(records.count) records, \(delivered) bytes delivered of \(batch * size)")
        }
        if run == 1 { log("dtls record: \(size) B plaintext → \(records[0].count) B on the wire") }
        record("srtp_cost-dtls-protect", run, cpu: c1 - c0, wall: w1 - w0)
        record("srtp_cost-dtls-unprotect", run, cpu: c2 - c1, wall: w2 - w1)
        results["srtp_cost-dtls-both", default: []].append(Double(c2 - c0) / Double(batch))
    }
    // One untimed warm-up of each (page faults, OpenSSL's and libsrtp's first-use work).
    for i in probes.indices { srtp(i, 0) }
    dtlsRun(0)
    results = [:]
    let kinds = probes.count + 1
    for run in 1...runs {
        for j in 0..<kinds {
            let k = (j + run) % kinds
            if k == probes.count { dtlsRun(run) } else { srtp(k, run) }
        }
    }
    let dtlsBoth = results["srtp_cost-dtls-both"] ?? []
    for (name, _) in probes {
        let key = "srtp_cost-\(short[name] ?? name)"
        emitSummary(key + "-protect", results[key + "-protect"] ?? [], "ns/pkt")
        emitSummary(key + "-unprotect", results[key + "-unprotect"] ?? [], "ns/pkt")
        let both = results[key + "-both"] ?? []
        emitSummary(key + "-both", both, "ns/pkt")
        // per run: SRTP (protect + unprotect) / DTLS record (protect + unprotect)
        emitSummary(key + "-ratio", zip(both, dtlsBoth).map { $0 / max(1e-9, $1) }, "x")
    }
    // The same SRTP figures with `idleSessions` more probes alive (two libsrtp sessions each, as
    // one media connection has): what the crypto costs per packet in a process with many
    // connections (Debian's libsrtp2 runs on NSS, whose softoken looks sessions and keys up in
    // shared tables).
    if idleSessions > 0 {
        var idle: [SrtpPacketProbe] = []
        idle.reserveCapacity(idleSessions)
        // One probe per connection (its outbound and inbound session), with the profile two
        // NiceWebRTC peers negotiate (the first offered).
        for _ in 0..<idleSessions {
            do {
                idle.append(try SrtpPacketProbe(profile: profiles[0]))
            } catch {
                die(4, "SRTP probe \(profiles[0]): \(error)")
            }
        }
        let saved = results
        results = [:]
        for run in 1...runs {
            for i in probes.indices { srtp((i + run) % probes.count, run) }
        }
        for (name, _) in probes {
            let key = "srtp_cost-\(short[name] ?? name)"
            let both = results[key + "-both"] ?? []
            emitSummary(key + "-both-busy", both, "ns/pkt", extra: ",\"connections\":\(idleSessions)")
            log("\(key): protect + unprotect with \(idleSessions) more connections' SRTP sessions alive: \(fmt(percentile(both.sorted(), 0.5))) ns (alone: \(fmt(percentile((saved[key + "-both"] ?? []).sorted(), 0.5))) ns)")
        }
        results = saved
        _ = idle
    }
    emitSummary("srtp_cost-dtls-protect", results["srtp_cost-dtls-protect"] ?? [], "ns/pkt")
    emitSummary("srtp_cost-dtls-unprotect", results["srtp_cost-dtls-unprotect"] ?? [], "ns/pkt")
    emitSummary("srtp_cost-dtls-both", dtlsBoth, "ns/pkt")
}
