#!/usr/bin/env python3
"""One-process aiortc <-> aiortc data-channel benchmark over 127.0.0.1.

    Interop/.venv/bin/python Interop/aiortc_dc_bench.py [--runs 10] [--seconds 3 | --count N]
                                                        [--sizes 1024,65536] [--quick] [--bind ADDR]

Two RTCPeerConnections in one asyncio loop, the offer and answer handed over in-process (full
SDP after gathering, as aiortc does not trickle), no STUN server (iceServers=[]) and host
candidates on --bind only (default 127.0.0.1; aioice.ice.get_host_addresses is replaced).

(a) Channel setup, over --runs fresh connection pairs: the time from each side's ICE connected
    (aiortc's iceConnectionState `completed`; it has no `connected`) to its channel open (the
    offerer: its channel's `open` event, i.e. DCEP ACK received; the answerer: the `datachannel`
    event), and the whole setup from createOffer() to the offerer's open. Reported as p50
    (min-max) in ms.
(b) Throughput on one reliable ordered channel, offerer -> answerer, for each of --sizes: the
    sender sends messages of that size for --seconds (or exactly --count messages), waiting
    while bufferedAmount is above 1 MiB (bufferedamountlow event at 256 KiB, polled every
    50 ms too); the receiver counts bytes, and the figure runs from the first send to the last
    message received. MB is 10^6 bytes. Sender and receiver share one Python thread, so this
    measures what aiortc does with one CPU core for both ends.

Output: human lines (`aiortc dc-open …`, `aiortc dc-throughput 1024 B: N msg/s, X MB/s`), then one
JSON object on the last line. Defaults take about 10-15 s; --quick (3 runs, 1 s each size) about
5 s. Every wait is bounded (connection 15 s, drain 60 s).
"""

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time

from aioice import ice as aioice_ice
from aiortc import RTCConfiguration, RTCPeerConnection

HIGH_WATER = 1024 * 1024
LOW_WATER = 256 * 1024
POLL = 0.05
CONNECT_TIMEOUT = 15.0
DRAIN_TIMEOUT = 60.0


def now() -> float:
    return time.perf_counter()


class Pair:
    """Two connected RTCPeerConnections and the offerer's channel (ch1) / the answerer's (ch2)."""

    def __init__(self) -> None:
        cfg = lambda: RTCConfiguration(iceServers=[])  # noqa: E731 - no STUN server at all
        self.pc1 = RTCPeerConnection(cfg())
        self.pc2 = RTCPeerConnection(cfg())
        self.t = {}
        self.ch1 = None
        self.ch2 = None
        self.open1 = asyncio.Event()
        self.open2 = asyncio.Event()

        def ice(pc, key):
            def changed():
                if pc.iceConnectionState in ("completed", "connected") and key not in self.t:
                    self.t[key] = now()
            return changed

        self.pc1.on("iceconnectionstatechange", ice(self.pc1, "ice1"))
        self.pc2.on("iceconnectionstatechange", ice(self.pc2, "ice2"))

        @self.pc2.on("datachannel")
        def announced(channel):
            self.t.setdefault("open2", now())
            self.ch2 = channel
            self.open2.set()

    async def connect(self, ordered: bool = True) -> None:
        self.t["start"] = now()
        self.ch1 = self.pc1.createDataChannel("bench", ordered=ordered)

        @self.ch1.on("open")
        def opened():
            self.t.setdefault("open1", now())
            self.open1.set()

        await self.pc1.setLocalDescription(await self.pc1.createOffer())
        await self.pc2.setRemoteDescription(self.pc1.localDescription)
        await self.pc2.setLocalDescription(await self.pc2.createAnswer())
        await self.pc1.setRemoteDescription(self.pc2.localDescription)
        await asyncio.wait_for(asyncio.gather(self.open1.wait(), self.open2.wait()), CONNECT_TIMEOUT)

    async def close(self) -> None:
        for pc in (self.pc1, self.pc2):
            try:
                await asyncio.wait_for(pc.close(), 5)
            except Exception as e:
                logging.warning("close: %r", e)


def ms(a: float, b: float) -> float:
    return (b - a) * 1000.0


def summary(values: list[float]) -> dict:
    return {"p50": round(statistics.median(values), 2), "min": round(min(values), 2),
            "max": round(max(values), 2), "n": len(values)}


async def setup_runs(runs: int) -> dict:
    offerer, answerer, total = [], [], []
    for _ in range(runs):
        pair = Pair()
        try:
            await pair.connect()
            t = pair.t
            if "ice1" in t and "ice2" in t:
                offerer.append(ms(t["ice1"], t["open1"]))
                answerer.append(ms(t["ice2"], t["open2"]))
            total.append(ms(t["start"], t["open1"]))
        finally:
            await pair.close()
    return {"offerer_ice_to_open_ms": summary(offerer), "answerer_ice_to_open_ms": summary(answerer),
            "offer_to_open_ms": summary(total)}


async def throughput(size: int, seconds: float, count: int | None) -> dict:
    pair = Pair()
    try:
        await pair.connect()
        tx, rx = pair.ch1, pair.ch2
        got = {"n": 0, "bytes": 0, "last": None}
        sent = {"n": 0, "bytes": 0, "done": False}
        everything = asyncio.Event()

        @rx.on("message")
        def received(data):
            got["n"] += 1
            got["bytes"] += len(data)
            got["last"] = now()
            if sent["done"] and got["n"] >= sent["n"]:
                everything.set()

        low = asyncio.Event()
        tx.bufferedAmountLowThreshold = LOW_WATER
        tx.on("bufferedamountlow", low.set)
        payload = bytes(i & 0xFF for i in range(size))
        started = now()
        stop_at = started + seconds
        while (sent["n"] < count) if count is not None else (now() < stop_at):
            while tx.bufferedAmount > HIGH_WATER:
                low.clear()
                try:
                    await asyncio.wait_for(low.wait(), POLL)
                except asyncio.TimeoutError:
                    pass
            tx.send(payload)
            sent["n"] += 1
            sent["bytes"] += size
            if sent["n"] % 16 == 0:
                await asyncio.sleep(0)
        send_end = now()
        sent["done"] = True
        if got["n"] >= sent["n"]:
            everything.set()
        try:
            await asyncio.wait_for(everything.wait(), DRAIN_TIMEOUT)
        except asyncio.TimeoutError:
            pass
        end = got["last"] or now()
        elapsed = max(end - started, 1e-9)
        return {
            "size": size, "sent": sent["n"], "received": got["n"], "bytes": got["bytes"],
            "complete": got["n"] == sent["n"] and got["bytes"] == sent["bytes"],
            "seconds": round(elapsed, 3), "send_seconds": round(send_end - started, 3),
            "msg_per_s": round(got["n"] / elapsed, 1), "MB_per_s": round(got["bytes"] / elapsed / 1e6, 3),
        }
    finally:
        await pair.close()


async def main_async(args) -> dict:
    result = {"impl": "aiortc", "bind": args.bind, "runs": args.runs}
    t0 = now()
    setup = await setup_runs(args.runs)
    result["setup"] = setup
    for key, what in (("offerer_ice_to_open_ms", "offerer ICE completed -> channel open"),
                      ("answerer_ice_to_open_ms", "answerer ICE completed -> channel announced"),
                      ("offer_to_open_ms", "createOffer -> offerer channel open")):
        s = setup[key]
        print(f"aiortc dc-open {what}: p50 {s['p50']:.1f} ms (min {s['min']:.1f}, max {s['max']:.1f}, "
              f"{s['n']} runs)", flush=True)
    result["throughput"] = []
    for size in args.sizes:
        r = await throughput(size, args.seconds, args.count)
        result["throughput"].append(r)
        note = "" if r["complete"] else f"  INCOMPLETE: {r['received']}/{r['sent']} received"
        print(f"aiortc dc-throughput {size} B: {r['msg_per_s']:.0f} msg/s, {r['MB_per_s']:.2f} MB/s "
              f"({r['received']} messages in {r['seconds']:.2f} s){note}", flush=True)
    result["total_seconds"] = round(now() - t0, 2)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=10, help="connection setups to time (default 10)")
    p.add_argument("--seconds", type=float, default=3.0, help="send time per message size (default 3)")
    p.add_argument("--count", type=int, help="send exactly this many messages per size instead")
    p.add_argument("--sizes", default="1024,65536", help="message sizes, comma-separated (default 1024,65536)")
    p.add_argument("--quick", action="store_true", help="3 runs, 1 s per size")
    p.add_argument("--bind", default="127.0.0.1", help="gather on this address only (default 127.0.0.1)")
    args = p.parse_args()
    if args.quick:
        args.runs, args.seconds = min(args.runs, 3), min(args.seconds, 1.0)
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.runs < 1 or any(not 1 <= s <= 65536 for s in args.sizes):
        p.error("--runs must be at least 1 and sizes 1-65536")
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    aioice_ice.get_host_addresses = lambda use_ipv4, use_ipv6: [args.bind]
    result = asyncio.run(main_async(args))
    print(json.dumps(result, separators=(",", ":")), flush=True)
    if not all(r["complete"] for r in result["throughput"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
