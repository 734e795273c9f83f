#!/usr/bin/env python3
"""A DTLS-over-ICE-JSONL peer built on aiortc's ORTC objects (protocol: shared/docs/ice-jsonl.md
and docs/dtls-jsonl.md; bridge: Interop/bridge.py).

stdout carries protocol lines only; logs go to stderr. ICE is aiortc's RTCIceGatherer and
RTCIceTransport (aioice underneath, so the ICE states are aioice_peer.py's: `checking` when the
checks start, `completed` when they succeed, `failed` when they fail or consent expires). With
`--dtls`, an RTCDtlsTransport runs DTLS 1.2 over component 1 once ICE is connected and the remote
`dtls` line has arrived, and the `--count` datagrams go over DTLS (one application-data record
each) once DTLS is connected; `got` counts the records received over DTLS. Without `--dtls` the
peer is a plain ICE-JSONL peer and sends over ICE, as aioice_peer.py does.

`--check-pattern` and `--payload random` mean what they mean in aioice_peer.py, for the DTLS
payloads as well.

Where this peer departs from aiortc's defaults (each marked in the code):
- The DTLS role is forced from --dtls-role; aiortc's ORTC rule is "ICE controlling = DTLS server".
- The remote fingerprint is checked in OpenSSL's verify callback, during the handshake, so a
  mismatch aborts the handshake with a fatal alert and the remote peer fails too. aiortc itself
  accepts any certificate during the handshake and compares fingerprints only afterwards, failing
  silently on its own side while the remote side stays connected. (aiortc's later check still
  runs and passes.)
- DTLS-SRTP (use_srtp) is offered, as aiortc always does, but not required: a peer that does not
  negotiate it is fine for datagrams, where aiortc would fail ("no SRTP profile negotiated").
- The handshake is bounded by --dtls-timeout (default 10 s), as is the wait for the remote `dtls`
  line once ICE is connected. aiortc has no handshake timeout of its own: OpenSSL retransmits
  after 1, 2, 4 … 60 s and gives up after 12 timeouts (483 s), and aiortc then lets that error
  escape RTCDtlsTransport.start() with the state left at connecting; this peer reports failed.

aioice leaves 127.0.0.1 out of the addresses it gathers on, so `--bind` is supplied to it by
replacing `aioice.ice.get_host_addresses`, and the gatherer gets an empty server list (aiortc
would otherwise add stun.l.google.com). Remote `.local` candidates are skipped (resolving them
would mean multicast DNS).
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

from aioice import ice as aioice_ice
from aiortc import RTCIceGatherer, RTCIceServer, RTCIceTransport
from aiortc.rtcconfiguration import RTCIceTransportPolicy
from aiortc.rtcdtlstransport import (
    RTCCertificate,
    RTCDtlsFingerprint,
    RTCDtlsParameters,
    RTCDtlsTransport,
    State as DtlsState,
    X509_DIGEST_ALGORITHMS,
    certificate_digest,
)
from aiortc.rtcicetransport import RTCIceParameters
from aiortc.sdp import candidate_from_sdp, candidate_to_sdp
from OpenSSL import SSL

GOT_INTERVAL = 0.05  # at most one `got` per 50 ms; the final totals within 50 ms
DTLS1_2_VERSION = 0xFEFD  # pyOpenSSL has no constant for it
MAX_DTLS_SIZE = 1200  # aiortc moves at most 1,500 bytes per datagram (record overhead included)
log = logging.getLogger("aiortc-dtls-peer")
ALERTS = {  # RFC 5246 section 7.2 / RFC 8446 section 6 (the ones a handshake is likely to end with)
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 40: "handshake_failure",
    42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
    45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter",
    48: "unknown_ca", 50: "decode_error", 51: "decrypt_error", 70: "protocol_version",
    71: "insufficient_security", 80: "internal_error", 90: "user_canceled",
    110: "unsupported_extension",
}


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


def hex_pairs(data: bytes) -> str:
    return ":".join(f"{b:02X}" for b in data)


def parse_fingerprint(text: str) -> tuple[str, str]:
    """`sha-256 AB:CD:…` (RFC 8122) → ("sha-256", "AB:CD:…"); ValueError if unusable."""
    algorithm, _, value = text.strip().partition(" ")
    algorithm, value = algorithm.lower(), value.strip().upper()
    if algorithm not in X509_DIGEST_ALGORITHMS:
        raise ValueError(f"unsupported fingerprint algorithm {algorithm!r}")
    want = X509_DIGEST_ALGORITHMS[algorithm].digest_size
    pairs = value.split(":")
    if len(pairs) != want or not all(len(p) == 2 and all(c in "0123456789ABCDEF" for c in p) for p in pairs):
        raise ValueError(f"fingerprint {text!r} is not {want} hex pairs joined by colons")
    return algorithm, value


class CheckedCertificate(RTCCertificate):
    """aiortc's certificate, with an SSL context limited to DTLS 1.2 whose verify callback checks
    the peer certificate against the signalled fingerprint (set `expected` before the handshake),
    and whose info callback notes the alerts sent and received (aiortc's SSL.Error text is empty
    with this OpenSSL: "error []")."""

    expected: tuple[str, str] | None = None
    mismatch: str | None = None
    alerts: list[str]

    def _create_ssl_context(self, srtp_profiles):
        ctx = super()._create_ssl_context(srtp_profiles)
        ctx.set_min_proto_version(DTLS1_2_VERSION)
        ctx.set_max_proto_version(DTLS1_2_VERSION)
        # Departure from aiortc: its callback accepts every certificate (lambda *args: True).
        ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, self._verify)
        self.alerts = []
        ctx.set_info_callback(self._info)
        return ctx

    def _info(self, conn, where, ret) -> None:
        if where & SSL.SSL_CB_ALERT:
            level = {1: "warning", 2: "fatal"}.get(ret >> 8, f"level {ret >> 8}")
            desc = ALERTS.get(ret & 0xFF, str(ret & 0xFF))
            self.alerts.append(f"{'sent' if where & SSL.SSL_CB_WRITE else 'received'} {level} alert {desc}")
            log.info("DTLS alert: %s", self.alerts[-1])

    def _verify(self, conn, x509, errno, depth, ok) -> bool:
        if depth != 0:
            return True  # a self-signed certificate has no chain; judge the leaf only
        try:
            algorithm, want = self.expected
            have = certificate_digest(x509.to_cryptography(), algorithm)
        except Exception as e:  # an exception here would escape aiortc's SSL.Error handling
            self.mismatch = f"cannot check the peer certificate: {e!r}"
            return False
        if have != want:
            self.mismatch = (f"fingerprint mismatch: signalled {algorithm} {want}, "
                             f"peer certificate has {algorithm} {have}")
            log.warning("%s", self.mismatch)
            return False
        return True


class DatagramDtlsTransport(RTCDtlsTransport):
    def _setup_srtp(self) -> None:
        # Departure from aiortc: without a negotiated use_srtp profile it fails the transport;
        # datagrams do not need SRTP keys.
        if not self._ssl.get_selected_srtp_profile():
            log.info("no DTLS-SRTP profile negotiated; not needed for datagrams")
            return
        super()._setup_srtp()


class DatagramReceiver:
    """Takes the application data (content type 23) that RTCDtlsTransport would hand to SCTP."""

    def __init__(self, peer: "Peer") -> None:
        self.peer = peer

    async def _handle_data(self, data: bytes) -> None:
        self.peer.count_datagram(data)


class DtlsLogTap(logging.Handler):
    """Keeps aiortc's DTLS log lines: its only account of why a handshake failed or a transport
    closed (it raises nothing)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.failure: str | None = None
        self.remote_shutdown = False

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if " x DTLS handshake failed" in text:
            self.failure = text.split(" x ", 1)[1]
        elif "DTLS shutdown by remote party" in text:
            self.remote_shutdown = True


class Peer:
    def __init__(self, args: argparse.Namespace, tap: DtlsLogTap) -> None:
        self.args = args
        self.tap = tap
        servers = []
        if args.stun:
            servers.append(RTCIceServer(f"stun:{args.stun[0]}:{args.stun[1]}"))
        if args.turn:
            servers.append(RTCIceServer(f"turn:{args.turn[0]}:{args.turn[1]}",
                                        username=args.turn_user, credential=args.turn_pass))
        # An explicit (possibly empty) list: with None, aiortc adds stun:stun.l.google.com:19302.
        self.gatherer = RTCIceGatherer(
            iceServers=servers,
            iceTransportPolicy=RTCIceTransportPolicy.RELAY if args.relay_only else RTCIceTransportPolicy.ALL,
        )
        # RTCIceGatherer creates its aioice Connection as controlled; RTCPeerConnection sets the
        # role on this private attribute too.
        self.gatherer._connection.ice_controlling = args.controlling
        self.ice = RTCIceTransport(self.gatherer)
        self.ice.on("statechange", self.ice_state_changed)
        self.remote_ice = RTCIceParameters()
        self.dtls: DatagramDtlsTransport | None = None
        if args.dtls:
            self.cert = CheckedCertificate.generateCertificate()
            self.dtls = DatagramDtlsTransport(self.ice, [self.cert])
            # Private, as the brief allows: aiortc would pick the role from the ICE role in start().
            self.dtls._set_role(args.dtls_role)
            self.dtls._register_data_receiver(DatagramReceiver(self))
            self.dtls.on("statechange", self.dtls_state_changed)
            self.remote_dtls: RTCDtlsParameters | None = None
            self.dtls_failure: str | None = None
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.gathered = asyncio.Event()
        self.have_cred = asyncio.Event()
        self.have_dtls = asyncio.Event()
        self.ice_connected = asyncio.Event()
        self.last_state = None
        self.last_dtls_state = None
        self.closing = False
        self.tasks: list[asyncio.Task] = []
        self.received = 0
        self.received_bytes = 0
        self.corrupted = 0
        self.reported = (0, 0)
        self.last_got = 0.0
        self.got_timer: asyncio.TimerHandle | None = None

    # --- states ------------------------------------------------------------------------------

    def state(self, s: str) -> None:
        if s != self.last_state:
            self.last_state = s
            log.info("state %s", s)
            emit("state", s=s, ms=ms())

    def ice_state_changed(self) -> None:
        s = self.ice.state
        if self.closing or s in ("new", "closed"):
            return  # `new` is written at start, `closed` after everything has stopped
        self.state(s)
        if s == "completed":
            self.ice_connected.set()

    def dtls_state(self, s: str, reason: str) -> None:
        if s != self.last_dtls_state:
            self.last_dtls_state = s
            log.info("dtls-state %s: %s", s, reason)
            emit("dtls-state", s=s, reason=reason, ms=ms())

    def dtls_state_changed(self) -> None:
        s = self.dtls.state
        if s == "connecting":
            reason = f"handshake started as DTLS {self.dtls._role}"
        elif s == "connected":
            ssl = self.dtls._ssl
            reason = (f"{ssl.get_protocol_version_name()} {ssl.get_cipher_name()} as {self.dtls._role}, "
                      f"peer fingerprint verified")
        elif s == "failed":
            parts = [self.dtls_failure, self.cert.mismatch, *getattr(self.cert, "alerts", []), self.tap.failure]
            reason = "; ".join(p for p in parts if p) or "failed"
        elif s == "closed":
            if self.tap.remote_shutdown:
                reason = "close_notify from the remote peer"
            elif self.closing:
                reason = "closed locally"
            else:
                reason = "ICE transport closed"
        else:
            reason = ""
        self.dtls_state(s, reason)

    def fail_dtls(self, reason: str) -> None:
        self.dtls_failure = reason
        self.dtls._set_state(DtlsState.FAILED)  # private: aiortc has no public way to fail it

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
                    self.remote_ice = RTCIceParameters(usernameFragment=msg["ufrag"], password=msg["pwd"])
                    self.have_cred.set()
                elif t == "cand":
                    sdp = msg["c"]
                    if sdp.startswith("a="):
                        sdp = sdp[2:]
                    if sdp.startswith("candidate:"):
                        sdp = sdp[len("candidate:"):]
                    cand = candidate_from_sdp(sdp)
                    if cand.protocol.lower() != "udp":
                        log.info("skipping non-UDP candidate %s", msg["c"])
                        continue
                    if cand.ip.endswith(".local"):
                        log.info("skipping mDNS candidate %s", msg["c"])
                        continue
                    await self.ice.addRemoteCandidate(cand)  # queued by aioice until checks start
                elif t == "eoc":
                    await self.ice.addRemoteCandidate(None)
                elif t == "dtls":
                    self.apply_remote_dtls(msg)
                elif t == "close":
                    return "close requested"
                else:
                    log.info("ignoring message of unknown type %r", t)
            except Exception as e:  # a bad remote message must not stop the peer
                log.warning("could not apply remote %r: %r", t, e)

    def apply_remote_dtls(self, msg: dict) -> None:
        if self.dtls is None:
            log.info("ignoring remote dtls line: running without --dtls")
            return
        if self.have_dtls.is_set():
            log.warning("ignoring a second remote dtls line")
            return
        setup, fingerprint = msg.get("setup"), msg.get("fingerprint", "")
        log.info("remote dtls: setup %s, fingerprint %s", setup, fingerprint)
        local_setup = "active" if self.args.dtls_role == "client" else "passive"
        try:
            algorithm, value = parse_fingerprint(fingerprint)
        except ValueError as e:
            self.dtls_failure = f"remote dtls line unusable: {e}"
        else:
            if setup not in ("active", "passive"):
                self.dtls_failure = f"remote setup {setup!r} is neither active nor passive"
            elif setup == local_setup:
                self.dtls_failure = (f"remote setup {setup} is ours too: both sides would be "
                                     f"DTLS {self.args.dtls_role}s")
            self.cert.expected = (algorithm, value)
            self.remote_dtls = RTCDtlsParameters(
                fingerprints=[RTCDtlsFingerprint(algorithm=algorithm, value=value)],
                role="client" if setup == "active" else "server")
        self.have_dtls.set()

    # --- ICE ---------------------------------------------------------------------------------

    async def gather(self) -> None:
        await self.gatherer.gather()
        for c in self.gatherer.getLocalCandidates():
            emit("cand", c="candidate:" + candidate_to_sdp(c))
        emit("eoc")
        self.gathered.set()

    async def connect(self) -> None:
        await self.gathered.wait()
        await self.have_cred.wait()
        try:
            await self.ice.start(self.remote_ice)  # writes checking, then completed or failed
        except Exception as e:
            log.warning("ICE start failed: %r", e)
            if not self.closing:
                self.state("failed")
            return
        if self.ice.state != "completed":
            return
        pair = getattr(self.gatherer._connection, "_nominated", {}).get(1)  # no public accessor
        if pair is not None:
            log.info("selected pair %s <-> %s", pair.local_candidate, pair.remote_candidate)
            emit("pair", local=pair.local_candidate.type, remote=pair.remote_candidate.type)
        if self.dtls is None:
            self.tasks.append(asyncio.create_task(self.receive_ice()))
            self.tasks.append(asyncio.create_task(self.send()))

    async def receive_ice(self) -> None:
        while True:
            try:
                data = await self.ice._recv()
            except ConnectionError as e:
                if not self.closing:
                    log.warning("connection lost: %s", e)
                    self.state("failed")
                return
            self.count_datagram(data)

    # --- DTLS --------------------------------------------------------------------------------

    async def run_dtls(self) -> None:
        await self.ice_connected.wait()
        try:
            await asyncio.wait_for(self.have_dtls.wait(), self.args.dtls_timeout)
        except asyncio.TimeoutError:
            self.fail_dtls(f"no remote dtls line within {self.args.dtls_timeout:g} s of ICE connecting")
            return
        if self.dtls_failure:
            self.fail_dtls(self.dtls_failure)
            return
        try:
            await asyncio.wait_for(self.dtls.start(self.remote_dtls), self.args.dtls_timeout)
        except asyncio.TimeoutError:
            self.fail_dtls(f"no handshake within {self.args.dtls_timeout:g} s")
            return
        except SSL.Error as e:
            # aiortc lets the error of DTLSv1_handle_timeout() escape start() and leaves the state
            # at connecting: OpenSSL stops after 12 retransmission timeouts (1 s doubling to 60 s,
            # 483 s in all), and pyOpenSSL reports that as WantReadError.
            self.fail_dtls(f"handshake aborted: OpenSSL gave up retransmitting ({e!r} escaped aiortc)")
            return
        except Exception as e:
            self.fail_dtls(f"handshake aborted: {e!r}")
            return
        if self.dtls.state == "connected":
            self.tasks.append(asyncio.create_task(self.send()))

    # --- datagrams ---------------------------------------------------------------------------

    async def send(self) -> None:
        count, size = self.args.count, self.args.size
        randomly = self.args.payload == "random"
        began = time.monotonic()
        for i in range(count):
            data = foreign(size) if randomly else payload(i, size)
            try:
                if self.dtls is not None:
                    await self.dtls._send_data(data)  # one application-data record per datagram
                else:
                    await self.ice._send(data)
            except (ConnectionError, SSL.Error) as e:
                log.warning("sending stopped after %d datagrams: %r", i, e)
                return
            if i % 10 == 9:
                # About 1,000 datagrams/s, as ice-peer: no flow control in ICE-JSONL, so pace
                # so that a receiver starved of CPU for a while does not overflow its socket buffer.
                await asyncio.sleep(0.01)
        over = "DTLS" if self.dtls is not None else "ICE"
        log.info("sent %d %s datagrams of %d bytes over %s in %.3f s",
                 count, self.args.payload, size, over, time.monotonic() - began)

    def count_datagram(self, data: bytes) -> None:
        if self.args.check_pattern and not intact(data):
            self.corrupted += 1
            log.warning("datagram of %d bytes does not follow the payload pattern; not counted", len(data))
            return
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

    # --- lifetime ----------------------------------------------------------------------------

    async def run(self) -> None:
        local = self.gatherer.getLocalParameters()
        emit("cred", ufrag=local.usernameFragment, pwd=local.password)
        if self.dtls is not None:
            algorithm = "sha-256"
            ours = next(f.value for f in self.cert.getFingerprints() if f.algorithm == algorithm)
            signalled = ours
            if self.args.bad_fingerprint:
                while signalled == ours:
                    signalled = hex_pairs(os.urandom(32))
                log.info("signalling a fingerprint that is not ours (--bad-fingerprint)")
            emit("dtls", setup="active" if self.args.dtls_role == "client" else "passive",
                 fingerprint=f"{algorithm} {signalled}")
        self.state("new")
        if self.dtls is not None:
            self.dtls_state("new", f"certificate {algorithm} {ours}, DTLS {self.args.dtls_role}")
        self.start_stdin_reader(asyncio.get_running_loop())
        inbox = asyncio.create_task(self.handle_inbox())
        self.tasks.append(asyncio.create_task(self.gather()))
        self.tasks.append(asyncio.create_task(self.connect()))
        if self.dtls is not None:
            self.tasks.append(asyncio.create_task(self.run_dtls()))
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
        if self.dtls is not None:
            await self.stop_dtls()
        try:
            await asyncio.wait_for(self.ice.stop(), 5)
        except Exception as e:
            log.warning("ICE close: %r", e)
        emit("state", s="closed", ms=ms())

    async def stop_dtls(self) -> None:
        """close_notify if connected; `dtls-state closed` unless it already failed or closed."""
        pump = self.dtls._task  # the receive loop; stop() cancels it and forgets it
        try:
            await asyncio.wait_for(self.dtls.stop(), 5)
            if pump is not None:
                await asyncio.wait([pump], timeout=2)  # its `finally` sets closed
        except Exception as e:
            log.warning("DTLS close: %r", e)
        if self.dtls.state not in ("failed", "closed"):
            self.dtls._set_state(DtlsState.CLOSED)  # e.g. stopped in the middle of the handshake


def main() -> None:
    p = argparse.ArgumentParser(description="DTLS-over-ICE-JSONL peer on aiortc")
    role = p.add_mutually_exclusive_group(required=True)
    role.add_argument("--controlling", dest="controlling", action="store_true")
    role.add_argument("--controlled", dest="controlling", action="store_false")
    p.add_argument("--stun", type=host_port)
    p.add_argument("--turn", type=host_port)
    p.add_argument("--turn-user")
    p.add_argument("--turn-pass")
    p.add_argument("--relay-only", action="store_true")
    p.add_argument("--name", default="aiortc-dtls-peer")
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--check-pattern", action="store_true",
                   help="leave datagrams that break the byte pattern out of `got` (remote sends the pattern)")
    p.add_argument("--payload", choices=["pattern", "random"], default="pattern",
                   help="what to send: the byte pattern (default) or random bytes that break it")
    p.add_argument("--dtls", action="store_true", help="run DTLS 1.2 over ICE and send the datagrams over it")
    p.add_argument("--dtls-role", choices=["client", "server"], help="DTLS role (required with --dtls)")
    p.add_argument("--bad-fingerprint", action="store_true",
                   help="signal a random fingerprint instead of ours (mismatch test)")
    p.add_argument("--dtls-timeout", type=float, default=10.0,
                   help="seconds the remote dtls line may take after ICE connected, and then the "
                        "handshake, before DTLS counts as failed (default 10)")
    args = p.parse_args()
    if args.turn and not (args.turn_user and args.turn_pass):
        p.error("--turn needs --turn-user and --turn-pass")
    if args.relay_only and not args.turn:
        p.error("--relay-only needs --turn")
    if not 1 <= args.size <= 65000 or args.count < 0:
        p.error("--size must be 1-65000 and --count non-negative")
    if args.dtls and not args.dtls_role:
        p.error("--dtls needs --dtls-role client|server")
    if (args.dtls_role or args.bad_fingerprint) and not args.dtls:
        p.error("--dtls-role and --bad-fingerprint need --dtls")
    if args.dtls and args.size > MAX_DTLS_SIZE:
        p.error(f"--size must be at most {MAX_DTLS_SIZE} with --dtls")

    logging.basicConfig(
        stream=sys.stderr,
        level=os.environ.get("AIORTC_PEER_LOG_LEVEL", "INFO").upper(),
        format=f"%(asctime)s {args.name} %(name)s %(levelname)s: %(message)s",
    )
    # aiortc logs DTLS failures at debug level only, and raises nothing: tap them, and show them.
    tap = DtlsLogTap()
    dtls_logger = logging.getLogger("aiortc.rtcdtlstransport")
    dtls_logger.setLevel(logging.DEBUG)
    dtls_logger.addHandler(tap)
    # aioice gathers only on non-loopback addresses; gather on --bind alone instead.
    aioice_ice.get_host_addresses = lambda use_ipv4, use_ipv6: [args.bind]
    asyncio.run(Peer(args, tap).run())
    sys.exit(0)


if __name__ == "__main__":
    main()
