#!/usr/bin/env python3
"""A WebRTC-JSONL data-channel peer on aiortc's RTCPeerConnection and RTCDataChannel
(protocol: shared/docs/webrtc-jsonl.md; bridge: Interop/webrtc_bridge.py).

    aiortc_dc_peer.py --offer|--answer [--stun H:P] [--turn H:P --turn-user U --turn-pass P]
                      [--relay-only] [--bind ADDR] [--name NAME] [--label TEXT] [--count N]
                      [--size BYTES] [--text] [--unordered] [--max-retransmits N] [--lifetime S]

stdout carries WebRTC-JSONL lines only, each flushed; logs go to stderr
(AIORTC_PEER_LOG_LEVEL=DEBUG for aiortc's own). Run it with Interop/.venv/bin/python
(aiortc==1.16.0, aioice==0.13.0; see Interop/run.sh).

How aiortc shapes the lines it writes:
- No trickle: aiortc gathers inside setLocalDescription(), so the `sdp` line carries every local
  candidate (and a=end-of-candidates) and is followed by `eoc` alone, with no `cand` lines.
- `ice` states are aiortc's iceConnectionState: new, checking, completed, failed, closed. aiortc
  has no `connected` (it goes checking -> completed) nor `disconnected`. `conn` states are its
  connectionState: new, connecting, connected, failed, closed (no `disconnected`).
  `state ice new` and `state conn new` are written at start (aiortc fires no event for them).
- `dc` states: aiortc fires `open` and `close` events only. `connecting` is written when the
  offerer creates the channel; the answerer's channel arrives (datachannel event) already open,
  so it writes `connecting` and then `open` at once. `closing` is seen by polling readyState
  (every 50 ms while the channel lives, and right after a local close()).
- `pair` comes from aioice's nominated pair (a private attribute: aiortc has no
  getSelectedCandidatePair), written once ICE is completed.
- `got` is written at most every 100 ms while messages arrive, and within 100 ms of the last
  one, and once more on close. Text messages count their UTF-8 bytes.

Sending: once the channel is open, --count messages of --size bytes (bytes objects, or with
--text str objects of --size ASCII characters), waiting while bufferedAmount is above 1 MiB
(bufferedamountlow event at 256 KiB, polled every 50 ms as well). aiortc refuses (ValueError)
messages larger than the peer's a=max-message-size (65,536 when the peer advertises none); it
advertises 262,144 itself.

Network confinement: the RTCPeerConnection gets RTCConfiguration(iceServers=[...]) with only the
--stun/--turn servers given (an empty list otherwise: with None aiortc adds
stun:stun.l.google.com:19302), and aioice's host-address discovery
(aioice.ice.get_host_addresses, which also leaves 127.0.0.1 out) is replaced to return --bind
alone. Remote candidates with `.local` names are dropped, from `cand` lines and from the remote
SDP alike (aioice would otherwise resolve them with multicast DNS), as are non-UDP ones.

On {"t":"close"} or EOF: the channel is closed (stream reset), the connection closed, `got`
written with the final totals, `state conn closed` written (once), exit 0. --lifetime S (default
600) is a backstop: after S seconds the peer closes itself and exits 1.
"""

import time

STARTED = time.monotonic()  # before the slower imports: `ms` counts from program start

import argparse
import asyncio
import json
import logging
import os
import re
import sys
import threading

from aioice import ice as aioice_ice
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCIceTransportPolicy
from aiortc.sdp import candidate_from_sdp

GOT_INTERVAL = 0.1  # at most one `got` per 100 ms
HIGH_WATER = 1024 * 1024  # wait while more than this is buffered
LOW_WATER = 256 * 1024  # bufferedAmountLowThreshold
POLL = 0.05
MAX_SIZE = 65536
log = logging.getLogger("aiortc-dc-peer")


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


def host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, not {text!r}")
    return host.strip("[]"), int(port)


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def unusable(candidate_value: str) -> str | None:
    """Why a candidate attribute value (without `candidate:`) must be skipped, or None."""
    bits = candidate_value.split()
    if len(bits) < 8:
        return "malformed"
    if bits[2].lower() != "udp":
        return "not UDP"
    if bits[4].lower().endswith(".local"):
        return "mDNS name"
    return None


def filter_remote_sdp(sdp: str) -> str:
    """Drops a=candidate lines this peer must not use (see unusable())."""
    kept = []
    for line in re.split(r"\r?\n", sdp):
        if line.startswith("a=candidate:"):
            why = unusable(line[len("a=candidate:"):])
            if why:
                log.info("skipping remote SDP candidate (%s): %s", why, line)
                continue
        kept.append(line)
    text = "\r\n".join(kept)
    return text if text.endswith("\r\n") else text.rstrip("\r\n") + "\r\n"


def first_mid(sdp: str) -> str | None:
    m = re.search(r"^a=mid:(\S+)", sdp, re.M)
    return m.group(1) if m else None


def message(index: int, size: int, text: bool):
    if text:
        head = f"{index:08d}:"
        body = (head + "abcdefghijklmnopqrstuvwxyz" * (size // 26 + 1))[:size]
        return body
    data = bytearray((index + j) & 0xFF for j in range(size))
    if size >= 4:
        data[0:4] = (index & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(data)


class Peer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        servers = []
        if args.stun:
            servers.append(RTCIceServer(f"stun:{url_host(args.stun[0])}:{args.stun[1]}"))
        if args.turn:
            servers.append(RTCIceServer(f"turn:{url_host(args.turn[0])}:{args.turn[1]}",
                                        username=args.turn_user, credential=args.turn_pass))
        # An explicit (possibly empty) list: with None, aiortc adds stun:stun.l.google.com:19302.
        self.pc = RTCPeerConnection(RTCConfiguration(
            iceServers=servers,
            iceTransportPolicy=RTCIceTransportPolicy.RELAY if args.relay_only else RTCIceTransportPolicy.ALL,
        ))
        self.pc.on("iceconnectionstatechange", self.ice_changed)
        self.pc.on("connectionstatechange", self.conn_changed)
        self.pc.on("datachannel", self.channel_announced)
        self.channel = None
        self.last = {}  # kind -> last state written
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.pending: list = []  # remote cand (RTCIceCandidate) / None (eoc) before the sdp
        self.remote_applied = False
        self.remote_first_mid: str | None = None
        self.closing = False
        self.tasks: list[asyncio.Task] = []
        self.low = asyncio.Event()
        self.received = 0
        self.received_bytes = 0
        self.reported = (0, 0)
        self.last_got = 0.0
        self.got_timer: asyncio.TimerHandle | None = None
        self.pair_written = False

    # --- states ------------------------------------------------------------------------------

    def state(self, kind: str, s: str) -> None:
        if self.last.get(kind) != s:
            self.last[kind] = s
            log.info("state %s %s", kind, s)
            emit("state", k=kind, s=s, ms=ms())

    def ice_changed(self) -> None:
        s = self.pc.iceConnectionState
        self.state("ice", s)
        if s in ("completed", "connected"):
            self.write_pair()

    def conn_changed(self) -> None:
        s = self.pc.connectionState
        if s == "closed" and self.closing:
            return  # written last by close()
        self.state("conn", s)

    def write_pair(self) -> None:
        if self.pair_written:
            return
        try:  # private: aiortc has no getSelectedCandidatePair()
            # the bundled DTLS transport: the data channel's, or a media section's (media only)
            dtls = self.pc.sctp.transport if self.pc.sctp else self.pc.getTransceivers()[0].receiver.transport
            connection = dtls.transport.iceGatherer._connection
            pair = connection._nominated.get(1)
        except (AttributeError, IndexError):
            pair = None
        if pair is None:
            log.info("selected pair not known")
            return
        self.pair_written = True
        log.info("selected pair %s <-> %s", pair.local_candidate, pair.remote_candidate)
        emit("pair", local=pair.local_candidate.type, remote=pair.remote_candidate.type)

    def dc_poll(self) -> None:
        if self.channel is not None:
            self.state("dc", self.channel.readyState)

    # --- channel -----------------------------------------------------------------------------

    def attach(self, channel) -> None:
        self.channel = channel
        self.state("dc", "connecting")
        channel.bufferedAmountLowThreshold = LOW_WATER
        channel.on("open", self.channel_open)
        channel.on("close", lambda: self.state("dc", "closed"))
        channel.on("message", self.count_message)
        channel.on("bufferedamountlow", self.low.set)
        self.tasks.append(asyncio.create_task(self.watch_channel()))
        log.info("channel %r: ordered %s, maxRetransmits %s, id %s", channel.label, channel.ordered,
                 channel.maxRetransmits, channel.id)

    def channel_announced(self, channel) -> None:
        if self.channel is not None:
            log.warning("ignoring a second channel %r", channel.label)
            return
        self.attach(channel)
        if channel.readyState == "open":  # aiortc opened it before announcing it
            self.channel_open()

    def channel_open(self) -> None:
        self.state("dc", "open")
        sctp = self.pc.sctp
        log.info("channel open; remote max-message-size %s",
                 getattr(sctp, "_remote_max_message_size", "?") if sctp else "?")
        self.tasks.append(asyncio.create_task(self.send()))

    async def watch_channel(self) -> None:
        while self.channel is not None and self.channel.readyState != "closed":
            self.dc_poll()
            await asyncio.sleep(POLL)
        self.dc_poll()

    async def send(self) -> None:
        ch, count, size, text = self.channel, self.args.count, self.args.size, self.args.text
        began = time.monotonic()
        for i in range(count):
            while ch.bufferedAmount > HIGH_WATER and ch.readyState == "open":
                self.low.clear()
                try:
                    await asyncio.wait_for(self.low.wait(), POLL)
                except asyncio.TimeoutError:
                    pass
            if ch.readyState != "open":
                log.warning("sending stopped after %d messages: channel %s", i, ch.readyState)
                return
            try:
                ch.send(message(i, size, text))
            except Exception as e:
                log.warning("sending stopped after %d messages: %r", i, e)
                return
            if i % 64 == 63:
                await asyncio.sleep(0)  # let SCTP run
        while ch.bufferedAmount > 0 and ch.readyState == "open" and time.monotonic() - began < 120:
            await asyncio.sleep(POLL)
        log.info("sent %d %s messages of %d bytes in %.3f s (handed to SCTP)", count,
                 "text" if text else "binary", size, time.monotonic() - began)

    def count_message(self, data) -> None:
        self.received += 1
        self.received_bytes += len(data.encode("utf-8")) if isinstance(data, str) else len(data)
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
        self.last_got = time.monotonic()
        if totals != self.reported:
            self.reported = totals
            emit("got", n=totals[0], bytes=totals[1])

    # --- signalling --------------------------------------------------------------------------

    def start_stdin_reader(self, loop: asyncio.AbstractEventLoop) -> None:
        def read() -> None:
            for line in sys.stdin:
                loop.call_soon_threadsafe(self.inbox.put_nowait, line)
            loop.call_soon_threadsafe(self.inbox.put_nowait, None)

        threading.Thread(target=read, name="stdin", daemon=True).start()

    async def write_local_description(self) -> None:
        desc = self.pc.localDescription  # after gathering: carries every candidate
        emit("sdp", type=desc.type, sdp=desc.sdp)
        n = len(re.findall(r"^a=candidate:", desc.sdp, re.M))
        log.info("wrote %s with %d candidates", desc.type, n)
        emit("eoc")

    def prepare_offer(self) -> None:
        """What the offer carries: the data channel (aiortc_media_peer.py adds its tracks)."""
        ch = self.pc.createDataChannel(
            self.args.label, ordered=not self.args.unordered, maxRetransmits=self.args.max_retransmits)
        self.attach(ch)

    def prepare_answer(self) -> None:
        """After the remote offer, before the answer (aiortc_media_peer.py adds its tracks)."""

    async def finish(self) -> None:
        """Close began, before the connection closes (aiortc_media_peer.py's final lines)."""

    async def offer(self) -> None:
        self.prepare_offer()
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.write_local_description()

    async def apply_sdp(self, msg: dict) -> None:
        kind, text = msg.get("type"), msg.get("sdp")
        want = "answer" if self.args.offer else "offer"
        if kind != want or not isinstance(text, str):
            log.warning("ignoring remote sdp of type %r (expected %s)", kind, want)
            return
        if self.remote_applied:
            log.warning("ignoring a second remote sdp")
            return
        text = filter_remote_sdp(text)
        self.remote_first_mid = first_mid(text)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=text, type=kind))
        self.remote_applied = True
        log.info("applied remote %s", kind)
        for cand in self.pending:
            await self.add_candidate(cand)
        self.pending.clear()
        if not self.args.offer:
            self.prepare_answer()
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self.write_local_description()

    def parse_cand(self, msg: dict):
        value = msg.get("c", "")
        if value.startswith("a="):
            value = value[2:]
        if value.startswith("candidate:"):
            value = value[len("candidate:"):]
        if not value.strip():
            return "skip"  # an empty candidate: end-of-candidates in some APIs; `eoc` says it here
        why = unusable(value)
        if why:
            log.info("skipping remote candidate (%s): %s", why, msg.get("c"))
            return "skip"
        cand = candidate_from_sdp(value)
        mid = msg.get("mid")
        if mid is not None:
            cand.sdpMid = str(mid)
        return cand

    async def add_candidate(self, cand) -> None:
        if cand is not None and cand.sdpMid is None:
            cand.sdpMid = self.remote_first_mid  # no mid: the first media section
            cand.sdpMLineIndex = 0
        await self.pc.addIceCandidate(cand)

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
                if t == "sdp":
                    await asyncio.wait_for(self.apply_sdp(msg), 30)
                elif t in ("cand", "eoc"):
                    cand = None if t == "eoc" else self.parse_cand(msg)
                    if cand == "skip":
                        continue
                    if self.remote_applied:
                        await self.add_candidate(cand)
                    else:
                        self.pending.append(cand)
                elif t == "close":
                    return "close requested"
                else:
                    log.info("ignoring message of unknown type %r", t)
            except Exception as e:  # a bad remote message must not stop the peer
                log.warning("could not apply remote %r: %r", t, e)

    # --- lifetime ----------------------------------------------------------------------------

    async def run(self) -> int:
        self.state("ice", "new")
        self.state("conn", "new")
        self.start_stdin_reader(asyncio.get_running_loop())
        if self.args.offer:
            await asyncio.wait_for(self.offer(), 30)
        inbox = asyncio.create_task(self.handle_inbox())
        done, _ = await asyncio.wait([inbox], timeout=self.args.lifetime)
        if inbox in done:
            why, status = inbox.result(), 0
        else:
            inbox.cancel()
            why, status = f"--lifetime {self.args.lifetime:g} s is over", 1
        log.info("closing: %s", why)
        self.closing = True
        ch = self.channel
        if ch is not None and ch.readyState in ("connecting", "open"):
            ch.close()
            self.dc_poll()  # closing (or closed at once if it never got an id)
            waited = time.monotonic()
            while ch.readyState != "closed" and time.monotonic() - waited < 1.0:
                await asyncio.sleep(0.02)
            self.dc_poll()
        await self.finish()
        try:
            await asyncio.wait_for(self.pc.close(), 5)
        except Exception as e:
            log.warning("close: %r", e)
        if self.got_timer is not None:
            self.got_timer.cancel()
        self.write_got()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.dc_poll()
        log.info("received %d messages (%d bytes)", self.received, self.received_bytes)
        self.state("conn", "closed")
        return status


def parser(description: str = "WebRTC-JSONL data-channel peer on aiortc") -> argparse.ArgumentParser:
    """The WebRTC-JSONL flags (aiortc_media_peer.py adds its own)."""
    p = argparse.ArgumentParser(description=description)
    role = p.add_mutually_exclusive_group(required=True)
    role.add_argument("--offer", dest="offer", action="store_true")
    role.add_argument("--answer", dest="offer", action="store_false")
    p.add_argument("--stun", type=host_port)
    p.add_argument("--turn", type=host_port)
    p.add_argument("--turn-user")
    p.add_argument("--turn-pass")
    p.add_argument("--relay-only", action="store_true")
    p.add_argument("--bind", default="127.0.0.1", help="gather only on this address (default 127.0.0.1)")
    p.add_argument("--name", default="aiortc-dc-peer")
    p.add_argument("--label", default="data", help="the channel's label (offerer; default data)")
    p.add_argument("--count", type=int, default=1, help="messages to send once open (default 1)")
    p.add_argument("--size", type=int, default=64, help=f"message size in bytes (default 64, at most {MAX_SIZE})")
    p.add_argument("--text", action="store_true", help="send str messages (ASCII) instead of bytes")
    p.add_argument("--unordered", action="store_true", help="unordered channel (offerer)")
    p.add_argument("--max-retransmits", type=int, help="partially reliable channel (offerer)")
    p.add_argument("--lifetime", type=float, default=600.0,
                   help="backstop: close and exit 1 after this many seconds (default 600)")
    return p


def main(peer_class=None, p: argparse.ArgumentParser | None = None) -> None:
    """Parses the flags, confines aioice to --bind, runs `peer_class` (default Peer), exits."""
    p = p or parser()
    args = p.parse_args()
    if args.turn and not (args.turn_user and args.turn_pass):
        p.error("--turn needs --turn-user and --turn-pass")
    if args.relay_only and not args.turn:
        p.error("--relay-only needs --turn")
    if not 0 <= args.size <= MAX_SIZE or args.count < 0:
        p.error(f"--size must be 0-{MAX_SIZE} and --count non-negative")
    if args.max_retransmits is not None and not 0 <= args.max_retransmits <= 65535:
        p.error("--max-retransmits must be 0-65535")

    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("AIORTC_PEER_LOG_LEVEL", "INFO").upper(),
        format=f"%(asctime)s {args.name} %(name)s %(levelname)s: %(message)s",
    )
    # aioice gathers on every non-loopback address; gather on --bind alone instead.
    aioice_ice.get_host_addresses = lambda use_ipv4, use_ipv6: [args.bind]
    status = asyncio.run((peer_class or Peer)(args).run())
    sys.exit(status)


if __name__ == "__main__":
    main()
