#!/usr/bin/env python3
"""aiortc <-> aiortc DTLS handshake time on 127.0.0.1, the reference for NiceBench's `dtls_handshake`.

    python aiortc_handshake.py [runs=20]

Per run, untimed: two RTCIceGatherer (no ICE servers, host candidates on 127.0.0.1 only), full
gathering, candidates and ICE parameters exchanged, both RTCIceTransport.start() awaited (ICE
connected on both sides), certificates generated. Timed: `await dtls.start(remote parameters)` on
both sides at once (aiortc's ORTC rule: ICE controlling = DTLS server), from the call to its
return, which is after the handshake and aiortc's fingerprint check. The figure per run is the
larger of the two sides' durations, as NiceBench takes the larger of DtlsTransport.handshakeDuration.

stdout: JSON lines in NiceBench's format (bench "aiortc_dtls_handshake", impl "aiortc"): one per run
and one summary (median, p10, p90, p99, min, max; linear interpolation as NiceBench). Logs go to
stderr. Exit status 0, 2 when a handshake failed, 3 on timeout, 64 on bad arguments.

aioice leaves 127.0.0.1 out of the addresses it gathers on, so `aioice.ice.get_host_addresses` is
replaced (as Interop/aioice_peer.py does), and the gatherers get an empty server list (with None,
aiortc adds stun.l.google.com): no packet leaves 127.0.0.1.
"""

import asyncio
import json
import logging
import sys
import time

from aioice import ice as aioice_ice
from aiortc import RTCIceGatherer, RTCIceTransport
from aiortc.rtcdtlstransport import RTCCertificate, RTCDtlsTransport

PHASE_TIMEOUT = 30.0
log = logging.getLogger("aiortc-handshake")


def out(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    pos = p * (len(s) - 1)
    lo = int(pos)
    if lo >= len(s) - 1:
        return s[-1]
    return s[lo] + (pos - lo) * (s[lo + 1] - s[lo])


async def one_run(r: int) -> float:
    ga = RTCIceGatherer(iceServers=[])
    gb = RTCIceGatherer(iceServers=[])
    # RTCIceGatherer creates its aioice Connection as controlled; RTCPeerConnection sets the role on
    # this private attribute too.
    ga._connection.ice_controlling = True
    gb._connection.ice_controlling = False
    ia, ib = RTCIceTransport(ga), RTCIceTransport(gb)
    try:
        await asyncio.wait_for(asyncio.gather(ga.gather(), gb.gather()), PHASE_TIMEOUT)
        for c in gb.getLocalCandidates():
            await ia.addRemoteCandidate(c)
        for c in ga.getLocalCandidates():
            await ib.addRemoteCandidate(c)
        await ia.addRemoteCandidate(None)
        await ib.addRemoteCandidate(None)
        await asyncio.wait_for(
            asyncio.gather(ia.start(gb.getLocalParameters()), ib.start(ga.getLocalParameters())), PHASE_TIMEOUT)
        if ia.state != "completed" or ib.state != "completed":
            log.error("run %d: ICE did not connect (%s / %s)", r, ia.state, ib.state)
            sys.exit(2)

        da = RTCDtlsTransport(ia, [RTCCertificate.generateCertificate()])
        db = RTCDtlsTransport(ib, [RTCCertificate.generateCertificate()])

        async def timed(d: RTCDtlsTransport, remote: RTCDtlsTransport) -> float:
            t0 = time.perf_counter()
            await d.start(remote.getLocalParameters())
            return (time.perf_counter() - t0) * 1000

        try:
            ta, tb = await asyncio.wait_for(asyncio.gather(timed(da, db), timed(db, da)), PHASE_TIMEOUT)
        except asyncio.TimeoutError:
            log.error("run %d: DTLS handshake timed out after %.0f s", r, PHASE_TIMEOUT)
            sys.exit(3)
        if da.state != "connected" or db.state != "connected":
            log.error("run %d: DTLS did not connect (%s / %s)", r, da.state, db.state)
            sys.exit(2)
        log.info("run %d: controlling (DTLS %s) %.2f ms, controlled (DTLS %s) %.2f ms",
                 r, da._role, ta, db._role, tb)
        await da.stop()
        await db.stop()
        return max(ta, tb)
    except asyncio.TimeoutError:
        log.error("run %d: ICE timed out after %.0f s", r, PHASE_TIMEOUT)
        sys.exit(3)
    finally:
        await ia.stop()
        await ib.stop()


async def main(runs: int) -> None:
    values = []
    for r in range(1, runs + 1):
        v = await one_run(r)
        values.append(v)
        out({"bench": "aiortc_dtls_handshake", "impl": "aiortc", "run": r, "value": round(v, 3), "unit": "ms"})
    out({"bench": "aiortc_dtls_handshake", "impl": "aiortc", "summary": True,
         **{k: round(percentile(values, p), 3) for k, p in
            [("median", 0.5), ("p10", 0.1), ("p90", 0.9), ("p99", 0.99), ("min", 0.0), ("max", 1.0)]},
         "n": len(values), "unit": "ms"})


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="[aiortc-handshake] %(message)s")
    for noisy in ("aioice", "aiortc"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
        if n < 1:
            raise ValueError
    except ValueError:
        sys.stderr.write("usage: aiortc_handshake.py [runs=20]\n")
        sys.exit(64)
    # Gather on 127.0.0.1 alone (aioice skips loopback addresses otherwise).
    aioice_ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
    import aiortc
    log.info("aiortc %s", aiortc.__version__)
    asyncio.run(main(n))
