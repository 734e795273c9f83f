#!/usr/bin/env python3
"""An ICE-JSONL peer built on aioice (protocol: shared/docs/ice-jsonl.md; runner: Interop/run.sh).

stdout carries protocol lines only; logs go to stderr. aioice has no trickle of local candidates
and no W3C states: it gathers everything, writes all candidates and then `eoc`; it writes
`checking` when connect() starts, `completed` when connect() returns and `failed` when it raises
(or when aioice drops the connection because consent expired).

Received datagrams all count in `got`, whatever they hold; `--check-pattern` (for a remote peer
that sends this repository's byte pattern) leaves a datagram that breaks the pattern out of `got`.
`--payload random` sends random bytes instead of the pattern (every datagram guaranteed to break
it), so that a receiver can be shown to count a payload that is not its own.

aioice leaves 127.0.0.1 out of the addresses it gathers on, so `--bind` is supplied to it by
replacing `aioice.ice.get_host_addresses`.
"""

import time

STARTED = time.monotonic()  # before the slower imports: `ms` counts from program start

import argparse
import asyncio
import json
import logging
import os
import sys
import threading

import aioice
from aioice import ice as aioice_ice

GOT_INTERVAL = 0.05  # at most one `got` per 50 ms; the final totals within 50 ms
log = logging.getLogger("aioice-peer")


def ms() -> int:
    return int((time.monotonic() - STARTED) * 1000)


def emit(t: str, **fields) -> None:
    """Writes one protocol line to stdout and flushes it."""
    line = json.dumps({"t": t, **fields}, separators=(",", ":"))
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass  # the bridge is gone


# Same payload as Examples/ice-peer/Payload.swift: datagram i starts with i as a 32-bit big-endian
# number, byte j (j >= 4) is (i + j) mod 256.
def payload(index: int, size: int) -> bytes:
    data = bytearray((index + j) & 0xFF for j in range(size))
    if size >= 4:
        data[0:4] = (index & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(data)


def intact(data: bytes) -> bool:
    if len(data) < 4:
        return True
    seq = int.from_bytes(data[0:4], "big")
    return all(data[j] == (seq + j) & 0xFF for j in range(4, len(data)))


def foreign(size: int) -> bytes:
    """Random bytes that do not follow the pattern (sizes of 4 bytes or more; the pattern does not
    constrain smaller datagrams), so a receiver judging by the pattern would count none of them."""
    data = bytearray(os.urandom(size))
    if size >= 4 and intact(data):
        data[-1] ^= 0xFF  # byte j of an intact datagram is fixed by its first 4 bytes: now it is wrong
    return bytes(data)


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


class Peer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.conn = aioice.Connection(
            ice_controlling=args.controlling,
            components=1,
            stun_server=args.stun,
            turn_server=args.turn,
            turn_username=args.turn_user,
            turn_password=args.turn_pass,
            use_ipv4=":" not in args.bind,
            use_ipv6=":" in args.bind,
            transport_policy=aioice.TransportPolicy.RELAY if args.relay_only else aioice.TransportPolicy.ALL,
        )
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.gathered = asyncio.Event()
        self.have_cred = asyncio.Event()
        self.last_state = None
        self.closing = False
        self.tasks: list[asyncio.Task] = []
        self.received = 0
        self.received_bytes = 0
        self.corrupted = 0
        self.reported = (0, 0)
        self.last_got = 0.0
        self.got_timer: asyncio.TimerHandle | None = None

    def state(self, s: str) -> None:
        if s != self.last_state:
            self.last_state = s
            log.info("state %s", s)
            emit("state", s=s, ms=ms())

    # --- stdin -------------------------------------------------------------------------------

    def start_stdin_reader(self, loop: asyncio.AbstractEventLoop) -> None:
        def read() -> None:
            for line in sys.stdin:
                loop.call_soon_threadsafe(self.inbox.put_nowait, line)
            loop.call_soon_threadsafe(self.inbox.put_nowait, None)

        threading.Thread(target=read, name="stdin", daemon=True).start()

    async def handle_inbox(self) -> str:
        """Applies remote messages until close; returns why it stopped."""
        while True:
            line = await self.inbox.get()
            if line is None:
                return "EOF on stdin"
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
                t = msg["t"]
            except (ValueError, KeyError, TypeError):
                log.warning("ignoring stdin line that is not a JSON object with a 't': %.200s", line)
                continue
            try:
                if t == "cred":
                    self.conn.remote_username = msg["ufrag"]
                    self.conn.remote_password = msg["pwd"]
                    self.have_cred.set()
                elif t == "cand":
                    sdp = msg["c"]
                    if sdp.startswith("a="):
                        sdp = sdp[2:]
                    if sdp.startswith("candidate:"):
                        sdp = sdp[len("candidate:"):]
                    cand = aioice.Candidate.from_sdp(sdp)
                    if cand.transport.lower() != "udp":
                        log.info("skipping non-UDP candidate %s", msg["c"])
                        continue
                    await self.conn.add_remote_candidate(cand)
                elif t == "eoc":
                    await self.conn.add_remote_candidate(None)
                elif t == "close":
                    return "close requested"
                else:
                    log.info("ignoring message of unknown type %r", t)
            except Exception as e:  # a bad remote message must not stop the peer
                log.warning("could not apply remote %r: %r", t, e)

    # --- ICE ---------------------------------------------------------------------------------

    async def gather(self) -> None:
        await self.conn.gather_candidates()
        for c in self.conn.local_candidates:
            emit("cand", c="candidate:" + c.to_sdp())
        emit("eoc")
        self.gathered.set()

    async def connect(self) -> None:
        await self.gathered.wait()
        await self.have_cred.wait()
        self.state("checking")
        try:
            await self.conn.connect()
        except Exception as e:
            log.warning("connect failed: %r", e)
            if not self.closing:
                self.state("failed")
            return
        self.state("completed")
        pair = getattr(self.conn, "_nominated", {}).get(1)  # aioice has no public accessor
        if pair is not None:
            log.info("selected pair %s <-> %s", pair.local_candidate, pair.remote_candidate)
            emit("pair", local=pair.local_candidate.type, remote=pair.remote_candidate.type)
        self.tasks.append(asyncio.create_task(self.receive()))
        self.tasks.append(asyncio.create_task(self.send()))

    async def send(self) -> None:
        count, size = self.args.count, self.args.size
        randomly = self.args.payload == "random"
        began = time.monotonic()
        for i in range(count):
            await self.conn.sendto(foreign(size) if randomly else payload(i, size), 1)
            if i % 10 == 9:
                # About 1,000 datagrams/s, as ice-peer: no flow control in ICE-JSONL, so pace
                # so that a receiver starved of CPU for a while does not overflow its socket buffer.
                await asyncio.sleep(0.01)
        log.info("sent %d %s datagrams of %d bytes in %.3f s", count, self.args.payload, size, time.monotonic() - began)

    async def receive(self) -> None:
        while True:
            try:
                data, component = await self.conn.recvfrom()
            except ConnectionError as e:
                if not self.closing:
                    log.warning("connection lost: %s", e)
                    self.state("failed")
                return
            if self.args.check_pattern and not intact(data):
                self.corrupted += 1
                log.warning("datagram of %d bytes does not follow the payload pattern; not counted", len(data))
                continue
            self.received += 1
            self.received_bytes += len(data)
            self.report_got()

    def report_got(self) -> None:
        now = time.monotonic()
        if now - self.last_got >= GOT_INTERVAL:
            self.write_got()
        elif self.got_timer is None:
            delay = GOT_INTERVAL - (now - self.last_got)
            self.got_timer = asyncio.get_running_loop().call_later(delay, self._got_timer_fired)

    def _got_timer_fired(self) -> None:
        self.got_timer = None
        self.write_got()

    def write_got(self) -> None:
        totals = (self.received, self.received_bytes)
        if totals != self.reported:
            self.reported = totals
            self.last_got = time.monotonic()
            emit("got", n=totals[0], bytes=totals[1])

    async def run(self) -> None:
        emit("cred", ufrag=self.conn.local_username, pwd=self.conn.local_password)
        self.state("new")
        self.start_stdin_reader(asyncio.get_running_loop())
        inbox = asyncio.create_task(self.handle_inbox())
        self.tasks.append(asyncio.create_task(self.gather()))
        self.tasks.append(asyncio.create_task(self.connect()))
        why = await inbox
        log.info("closing: %s", why)
        self.closing = True
        if self.got_timer is not None:
            self.got_timer.cancel()
        self.write_got()
        if self.args.check_pattern:
            log.info("received %d datagrams (%d bytes) following the payload pattern, %d corrupted",
                     self.received, self.received_bytes, self.corrupted)
        else:
            log.info("received %d datagrams (%d bytes)", self.received, self.received_bytes)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(self.conn.close(), 5)
        except Exception as e:
            log.warning("close: %r", e)
        emit("state", s="closed", ms=ms())


def main() -> None:
    p = argparse.ArgumentParser(description="ICE-JSONL peer on aioice")
    role = p.add_mutually_exclusive_group(required=True)
    role.add_argument("--controlling", dest="controlling", action="store_true")
    role.add_argument("--controlled", dest="controlling", action="store_false")
    p.add_argument("--stun", type=host_port)
    p.add_argument("--turn", type=host_port)
    p.add_argument("--turn-user")
    p.add_argument("--turn-pass")
    p.add_argument("--relay-only", action="store_true")
    p.add_argument("--name", default="aioice-peer")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--check-pattern", action="store_true",
                   help="leave datagrams that break the byte pattern out of `got` (remote sends the pattern)")
    p.add_argument("--payload", choices=["pattern", "random"], default="pattern",
                   help="what to send: the byte pattern (default) or random bytes that break it")
    args = p.parse_args()
    if args.turn and not (args.turn_user and args.turn_pass):
        p.error("--turn needs --turn-user and --turn-pass")
    if args.relay_only and not args.turn:
        p.error("--relay-only needs --turn")
    if not 1 <= args.size <= 65000 or args.count < 0:
        p.error("--size must be 1-65000 and --count non-negative")

    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("AIOICE_PEER_LOG_LEVEL", "INFO").upper(),
        format=f"%(asctime)s {args.name} %(name)s %(levelname)s: %(message)s",
    )
    # aioice gathers only on non-loopback addresses; gather on --bind alone instead.
    aioice_ice.get_host_addresses = lambda use_ipv4, use_ipv6: [args.bind]
    asyncio.run(Peer(args).run())
    sys.exit(0)


if __name__ == "__main__":
    main()
