#!/usr/bin/env python3
"""WebRTC-JSONL bridge: wires two data-channel peer programs together and checks them
(protocol: shared/docs/webrtc-jsonl.md).

    webrtc_bridge.py --a "CMD …" --b "CMD …" [--timeout 60] [--title T] [--verbose]
                     [--expect-a-got N] [--expect-b-got N] [--allow-loss [--settle S]]
                     [--hold S] [--sdp-last] [--kill-b-after-got N [--kill-wait S]] [--restarts]
                     [--media]

Starts peer A with --offer and peer B with --answer (appended unless the command already names
a role), forwards sdp/cand/eoc crosswise, records each side's state timelines (ice, conn, dc),
pairs and `got` lines, and prints them at the end with a PASS or FAIL line. Exit status 0 on
PASS, 1 on FAIL. Standard library only. Every wait is bounded; the run by --timeout (default
60 s), and the peers then get 10 s to exit after close (they are killed after that).

Expected counts: what A must get is what B sends, learnt from B's command line: its --count
(default 1) messages, --count × --size (default 64) bytes (text messages are ASCII, so the same
bytes). --expect-a-got N says instead that A must get N messages (N × B's --size bytes), for
peers whose command line does not say what they send; --expect-b-got N likewise for B.

PASS requires, for each side: exactly one `sdp` (A an offer, B an answer) before any of its
`cand`, exactly one `eoc` after them (zero `cand` lines is fine: a peer may put its candidates
in the sdp), `conn` connected and `dc` open, `got` equal to the expected messages and bytes, and,
after {"t":"close"} and EOF, `state conn closed` as its last conn state and exit status 0 within
10 s. With --allow-loss (for --unordered / --max-retransmits runs): each side must get at least
1 and at most the expected messages, with bytes = messages × the sender's --size; the bridge
waits until both got everything or no `got` arrived for --settle seconds (default 2) after both
channels opened. The wait ends early (FAIL) when a side got more than expected, failed, or exited.

--hold S keeps the connection up S seconds after the messages arrived (both sides must stay
conn connected and dc open meanwhile). --sdp-last forwards each side's `sdp` only after its
`eoc`, so the receiving peer gets candidates before the description and must queue them.

--restarts is for peers that renegotiate (an ICE restart, e.g. dc-peer --restart-after N, which is
not part of WebRTC-JSONL): each `sdp` then starts a new round (sdp, its cand lines, eoc), both
sides must write at least two (the first an offer from A and an answer from B, as usual) and one
eoc per sdp, and all the other checks stay (reliable channels: no message lost across a restart).

--media is for Media-JSONL peers (docs/media-jsonl.md: media-peer, aiortc_media_peer.py, the
Chromium driver): what each side sends and receives is learnt from its command line
(--send-video/--send-audio, --receive-video/--receive-audio, --pli-at, --no-data: no channel, so
no `dc open` and no messages expected). The wait ends once every sender wrote `media-done` and
either every receiver's counts pass or 3 s went by after the last `media-done` (their later
`media` lines still count: the last one of each kind, up to the close, is checked). PASS also
requires, for each kind a side sends and the other was asked to receive: video frames received
>= 90 % of the frames sent, audio packets received >= 90 % of the packets sent (the sender's last
`media` line), `incomplete` 0 (loopback loses nothing), and a `pli` line from each receiver of
video given --pli-at; the PLI round trip (keyframe_ms - sent_ms) is printed. A side given
--record DIR must leave DIR/video.ivf and DIR/audio.ogg (each kind it received) that ffprobe
opens, with as many frames (video) and packets (audio) as its last `media` line's `recorded`.

--kill-b-after-got N tests a peer that vanishes mid-transfer (give A's peer B a large --count so
that it is still sending): once both sides are connected and open and A reported got >= N, the
bridge SIGKILLs B, then expects A to report `dc closed` and `conn disconnected` or `failed` within
--kill-wait seconds (default 60) of the kill, then closes A, which must write `state conn closed`
last and exit 0 as usual. It prints how long after the kill A reported each of dc closing/closed
and conn disconnected/failed. Neither side's got totals are checked against B's or A's --count
then (A must have got at least N), nor B's close and exit.
"""

import argparse
import json
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time

FORWARDED = {"sdp", "cand", "eoc"}
MEDIA_KINDS = ("video", "audio")
MEDIA_SETTLE = 3.0  # --media: seconds receivers get after the last media-done
MEDIA_SHARE = 0.9  # --media: the share of what was sent a receiver must report
KINDS = ("ice", "conn", "dc")
CLOSE_WAIT = 10.0  # seconds each peer gets to exit after close


def flag_value(argv, flag, default):
    for i, a in enumerate(argv):
        if a == flag and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith(flag + "="):
            return int(a.split("=", 1)[1])
    return default


class Side:
    def __init__(self, label, command, role, events, started, verbose):
        argv = shlex.split(command)
        if "--offer" not in argv and "--answer" not in argv:
            argv.append("--" + role)
        self.label = label
        self.argv = argv
        self.role = "offer" if "--offer" in argv else "answer"
        self.count = flag_value(argv, "--count", 1)
        self.size = flag_value(argv, "--size", 64)
        self.expect = None  # (messages, bytes) this side must get; set by run()
        # Media-JSONL (--media): what the command line says this side does, and what it reported.
        self.no_data = "--no-data" in argv
        if self.no_data:
            self.count = 0  # no channel: nothing sent, nothing to get
        self.sends = {k: f"--send-{k}" in argv for k in MEDIA_KINDS}
        self.receives = {k: f"--receive-{k}" in argv for k in MEDIA_KINDS}
        self.pli_at = "--pli-at" in argv
        self.record = next((argv[i + 1] for i, x in enumerate(argv[:-1]) if x == "--record"), None)
        self.media_sent = {}  # kind -> last `media` dir=sent line
        self.media_recv = {}  # kind -> last `media` dir=recv line
        self.plis = []  # `pli` lines
        self.media_done_at = None  # bridge monotonic time of `media-done`
        self.started = started
        self.verbose = verbose
        self.timeline = []  # (kind, state, peer ms, bridge ms)
        self.pairs = []
        self.got = (0, 0)
        self.got_lines = 0
        self.last_got_at = None  # bridge monotonic time of the last got line
        self.sent_msgs = {"sdp": 0, "cand": 0, "eoc": 0}
        self.round_msgs = {"sdp": 0, "cand": 0, "eoc": 0}  # since the last sdp (--restarts)
        self.sdp_types = []
        self.sdp_type = None
        self.sdp_candidates = 0
        self.protocol_errors = []
        self.stderr_lines = []
        self.stdout_closed = False
        self.returncode = None
        self.killed = False  # SIGKILLed by the bridge (--kill-b-after-got)
        self.stdin_lock = threading.Lock()
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", errors="replace", bufsize=1,
        )
        threading.Thread(target=self._read_stdout, args=(events,), daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def now_ms(self):
        return int((time.monotonic() - self.started) * 1000)

    def _read_stdout(self, events):
        for line in self.proc.stdout:
            events.put((self, line.rstrip("\n"), self.now_ms()))
        events.put((self, None, self.now_ms()))

    def _read_stderr(self):
        for line in self.proc.stderr:
            line = line.rstrip("\n")
            self.stderr_lines.append(line)
            if self.verbose:
                print(f"[{self.label} stderr] {line}", file=sys.stderr, flush=True)

    def write(self, line):
        """Writes one line to the peer's stdin; False when it is gone."""
        with self.stdin_lock:
            try:
                self.proc.stdin.write(line + "\n")
                self.proc.stdin.flush()
                return True
            except (BrokenPipeError, OSError, ValueError):
                return False

    def close_stdin(self):
        with self.stdin_lock:
            try:
                self.proc.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass

    def states(self, kind):
        return [s for k, s, _, _ in self.timeline if k == kind]

    def failed(self):
        return "failed" in self.states("conn") or "failed" in self.states("ice")

    def ready(self):
        return "connected" in self.states("conn") and (self.no_data or "open" in self.states("dc"))


def run(args):
    global LOSSY_LINK
    LOSSY_LINK = args.allow_loss
    started = time.monotonic()
    deadline = started + args.timeout
    events = queue.Queue()
    a = Side("A", args.a, "offer", events, started, args.verbose)
    b = Side("B", args.b, "answer", events, started, args.verbose)
    other = {a: b, b: a}
    for s, override in ((a, args.expect_a_got), (b, args.expect_b_got)):
        n = other[s].count if override is None else override
        s.expect = (n, n * other[s].size)
    held_sdp = {}
    failures = []
    killed_report = []  # one line: what A saw after B was killed

    def handle(side, line, at):
        if line is None:
            side.stdout_closed = True
            return
        try:
            msg = json.loads(line)
            t = msg["t"]
            if not isinstance(t, str):
                raise TypeError("t is not a string")
        except (ValueError, KeyError, TypeError) as e:
            side.protocol_errors.append(f"stdout line is not a WebRTC-JSONL message ({e}): {line[:200]!r}")
            return
        if t in FORWARDED:
            if args.restarts and t == "sdp" and side.round_msgs["eoc"]:
                side.round_msgs = {"sdp": 0, "cand": 0, "eoc": 0}  # a new round
            seen = side.round_msgs if args.restarts else side.sent_msgs
            if seen["eoc"]:
                side.protocol_errors.append(f"{t} written after eoc")
            if t == "sdp":
                if seen["cand"]:
                    side.protocol_errors.append("sdp written after a cand (it must come first)")
                if side.sdp_type is None:
                    side.sdp_type = msg.get("type")
                side.sdp_types.append(msg.get("type"))
                sdp = msg.get("sdp")
                if not isinstance(sdp, str) or not sdp.startswith("v=0"):
                    side.protocol_errors.append("sdp line without an sdp starting with v=0")
                else:
                    side.sdp_candidates = sum(1 for l in sdp.splitlines() if l.startswith("a=candidate:"))
            elif t == "cand" and not str(msg.get("c", "")).startswith("candidate:"):
                side.protocol_errors.append(f"cand without a candidate: value: {line[:200]!r}")
            side.sent_msgs[t] += 1
            side.round_msgs[t] += 1
            lines = [line]
            if args.sdp_last and t == "sdp" and not side.sent_msgs["eoc"]:
                held_sdp.setdefault(side, []).append(line)
                lines = []
            elif args.sdp_last and t == "eoc":
                lines = [line] + held_sdp.pop(side, [])
            for out in lines:
                if other[side].killed:
                    continue
                if not other[side].write(out):
                    side.protocol_errors.append(f"could not forward to {other[side].label}: its stdin is closed")
        elif t == "state":
            k, s = msg.get("k"), msg.get("s")
            if k not in KINDS:
                side.protocol_errors.append(f"state line with k={k!r}: {line[:200]!r}")
            side.timeline.append((k, s, msg.get("ms"), at))
        elif t == "got":
            n, nbytes = msg.get("n"), msg.get("bytes")
            if not isinstance(n, int) or not isinstance(nbytes, int):
                side.protocol_errors.append(f"got line without integer n/bytes: {line[:200]!r}")
                return
            if n < side.got[0] or nbytes < side.got[1]:
                side.protocol_errors.append(f"got went backwards: {side.got} -> {(n, nbytes)}")
            side.got = (n, nbytes)
            side.got_lines += 1
            side.last_got_at = time.monotonic()
        elif t == "pair":
            side.pairs.append((msg.get("local"), msg.get("remote")))
        elif args.media and t == "media":
            kind, direction = msg.get("kind"), msg.get("dir")
            if kind not in MEDIA_KINDS or direction not in ("sent", "recv"):
                side.protocol_errors.append(f"media line with dir={direction!r} kind={kind!r}: {line[:200]!r}")
                return
            (side.media_sent if direction == "sent" else side.media_recv)[kind] = msg
        elif args.media and t == "pli":
            side.plis.append(msg)
        elif args.media and t == "media-done":
            side.media_done_at = time.monotonic()
        else:
            side.protocol_errors.append(f"unknown message type {t!r}")

    def pump(until, stop_at=None):
        """Handles events until `until()` holds or the deadline (or `stop_at`) passes; True if it holds."""
        while not until():
            left = (deadline if stop_at is None else stop_at) - time.monotonic()
            if left <= 0:
                return False
            try:
                side, line, at = events.get(timeout=min(left, 0.1))
            except queue.Empty:
                continue
            handle(side, line, at)
        return True

    opened_at = []

    def done():
        if any(s.stdout_closed or s.failed() for s in (a, b)):
            return True  # nothing more to wait for
        if any(s.got[0] > s.expect[0] or s.got[1] > s.expect[1] for s in (a, b)):
            return True  # more than expected: it cannot come right any more
        if not all(s.ready() for s in (a, b)):
            return False
        if args.media and not media_finished(a, b):
            return False
        if all(s.got == s.expect for s in (a, b)):
            return True
        if args.allow_loss:
            if not opened_at:
                opened_at.append(time.monotonic())
            quiet_since = max([opened_at[0]] + [s.last_got_at for s in (a, b) if s.last_got_at])
            return time.monotonic() - quiet_since >= args.settle
        return False

    if args.kill_b_after_got is not None:
        killed_report.append(kill_mode(args, a, b, pump, failures, started))
        deadline = time.monotonic()  # the run's own wait is over; close below has its own bound
    else:
        pump(done)
    for s in (a, b):
        if args.kill_b_after_got is not None:
            break  # kill_mode checked the run
        if s.stdout_closed:
            failures.append(f"{s.label} closed its stdout (exited?) before close")
        if s.failed():
            failures.append(f"{s.label} reached failed")
        if "connected" not in s.states("conn"):
            failures.append(f"{s.label} never reported conn connected")
        if "open" not in s.states("dc") and not s.no_data:
            failures.append(f"{s.label} never reported dc open")
        want = s.expect
        size = other[s].size
        if args.allow_loss:
            n, nbytes = s.got
            if want[0] == 0:
                ok = s.got == (0, 0)
            else:
                ok = 1 <= n <= want[0] and nbytes == n * size
            if not ok:
                failures.append(f"{s.label} got {n} messages / {nbytes} bytes, expected 1..{want[0]} "
                                f"messages of {size} bytes")
        elif s.got != want:
            failures.append(f"{s.label} got {s.got[0]} messages / {s.got[1]} bytes, expected {want[0]} / {want[1]}")
    if args.kill_b_after_got is None and time.monotonic() >= deadline:
        failures.append(f"timed out after {args.timeout:.0f} s")
    elif args.hold > 0 and not failures and args.kill_b_after_got is None:
        marks = {s: len(s.timeline) for s in (a, b)}
        hold_until = min(deadline, time.monotonic() + args.hold)
        pump(lambda: time.monotonic() >= hold_until or a.stdout_closed or b.stdout_closed)
        for s in (a, b):
            changed = [f"{k} {st}" for k, st, _, _ in s.timeline[marks[s]:] if k in ("conn", "dc")]
            if changed or s.stdout_closed:
                failures.append(f"{s.label} did not stay connected/open for {args.hold:.0f} s: "
                                f"{changed or 'stdout closed'}")

    # Close: {"t":"close"}, then EOF; each peer must write `state conn closed` and exit 0.
    for s in (a, b):
        if not s.killed:
            s.write('{"t":"close"}')
        s.close_stdin()
    close_deadline = time.monotonic() + CLOSE_WAIT
    deadline = close_deadline
    pump(lambda: a.stdout_closed and b.stdout_closed)
    for s in (a, b):
        if s.killed:
            try:
                s.returncode = s.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                failures.append(f"{s.label} still runs after SIGKILL")
            continue
        try:
            s.returncode = s.proc.wait(timeout=max(0.1, close_deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            s.proc.kill()
            s.proc.wait(timeout=5)
            failures.append(f"{s.label} did not exit within {CLOSE_WAIT:.0f} s of close; killed")
            continue
        pump(lambda: s.stdout_closed)  # its last lines (bounded by the close deadline)
        if s.returncode != 0:
            failures.append(f"{s.label} exited with status {s.returncode}")
        conn = s.states("conn")
        if not conn or conn[-1] != "closed":
            failures.append(f"{s.label} did not write state conn closed last (conn states: {conn})")
        want_type = "offer" if s.role == "offer" else "answer"
        if args.restarts:
            if s.sent_msgs["sdp"] < 2 or s.sdp_type != want_type:
                failures.append(f"{s.label} wrote sdp {s.sdp_types}, expected {want_type} first and a later one (--restarts)")
            if s.sent_msgs["eoc"] != s.sent_msgs["sdp"]:
                failures.append(f"{s.label} wrote eoc×{s.sent_msgs['eoc']}, expected one per sdp ({s.sent_msgs['sdp']})")
        else:
            if s.sent_msgs["sdp"] != 1 or s.sdp_type != want_type:
                failures.append(f"{s.label} wrote sdp×{s.sent_msgs['sdp']} (type {s.sdp_type}), expected one {want_type}")
            if s.sent_msgs["eoc"] != 1:
                failures.append(f"{s.label} wrote eoc×{s.sent_msgs['eoc']}, expected one")
        if not s.sent_msgs["cand"] and not s.sdp_candidates:
            failures.append(f"{s.label} announced no candidate, neither in cand lines nor in its sdp")
        failures.extend(f"{s.label}: {e}" for e in s.protocol_errors)
    recordings = {}
    if args.media:  # with the last lines, written up to the close
        failures.extend(media_checks(a, b))
        for s in (a, b):
            problems, recordings[s] = recording_checks(s)
            failures.extend(problems)

    title = args.title or f"{' '.join(a.argv)}  <->  {' '.join(b.argv)}"
    print(f"=== {title}")
    for s in (a, b):
        print(f"  {s.label} ({s.role}): {' '.join(s.argv)}")
        for kind, state, peer_ms, bridge_ms in s.timeline:
            peer = f"{peer_ms:>6}" if isinstance(peer_ms, int) else f"{peer_ms!s:>6}"
            print(f"    {kind:<4} {state:<12} peer {peer} ms   bridge {bridge_ms:>6} ms")
        for local, remote in s.pairs:
            print(f"    pair local {local} / remote {remote}")
        if args.media:
            for line in media_summary(s) + recordings.get(s, []):
                print(f"    {line}")
        print(f"    got  {s.got[0]} messages, {s.got[1]} bytes ({s.got_lines} got lines; "
              f"expected {s.expect[0]} / {s.expect[1]}); sdp {'/'.join(map(str, s.sdp_types)) or None} with {s.sdp_candidates} "
              f"candidates, cand×{s.sent_msgs['cand']}, eoc×{s.sent_msgs['eoc']}; exit {s.returncode}")
    if args.kill_b_after_got is not None and killed_report:
        print(f"  kill: {killed_report[0]}")
    elapsed = time.monotonic() - started
    if failures:
        print(f"  FAIL after {elapsed:.1f} s:")
        for f in failures:
            print(f"    - {f}")
        if not args.verbose:
            for s in (a, b):
                tail = s.stderr_lines[-40:]
                print(f"  --- {s.label} stderr (last {len(tail)} lines) ---")
                for line in tail:
                    print(f"    {line}")
    else:
        print(f"  PASS in {elapsed:.1f} s")
    sys.stdout.flush()
    return 1 if failures else 0


# Set from --allow-loss: the run's link drops datagrams on purpose.
LOSSY_LINK = False


def media_passes(sender, receiver, kind):
    """Why `receiver`'s last count of `kind` falls short of what `sender` sent, or None."""
    sent, got = sender.media_sent.get(kind), receiver.media_recv.get(kind)
    if sent is None:
        return f"{sender.label} reported no {kind} sent"
    if got is None:
        return f"{receiver.label} reported no {kind} received"
    field = "frames" if kind == "video" else "packets"
    want = sent.get(field, 0) * MEDIA_SHARE
    if not sent.get(field) or got.get(field, 0) < want:
        return (f"{receiver.label} received {got.get(field)} {kind} {field}, "
                f"expected >= {want:.0f} ({MEDIA_SHARE:.0%} of the {sent.get(field)} {sender.label} sent)")
    # Over a lossy link (--allow-loss) a frame whose retransmission was lost too is given up, as
    # designed; without loss none may be (scripts/media-chromium-test.sh: "`incomplete` 0 without loss").
    if got.get("incomplete", 0) and not LOSSY_LINK:
        return f"{receiver.label} dropped {got.get('incomplete')} incomplete {kind} frames (expected 0 on loopback)"
    return None


def media_checks(a, b):
    """Every media shortfall of the run as it stands (an empty list passes)."""
    problems = []
    for s, r in ((a, b), (b, a)):
        if any(s.sends.values()) and s.media_done_at is None:
            problems.append(f"{s.label} never wrote media-done")
        for kind in MEDIA_KINDS:
            if s.sends[kind] and r.receives[kind]:
                why = media_passes(s, r, kind)
                if why:
                    problems.append(why)
        if s.pli_at and s.receives["video"] and r.sends["video"] and not s.plis:
            problems.append(f"{s.label} was given --pli-at but wrote no pli line")
    return problems


def recording_checks(s):
    """--record DIR: ffprobe opens each file and counts what the side says it recorded."""
    problems, lines = [], []
    for kind, name, what in (("video", "video.ivf", "frames"), ("audio", "audio.ogg", "packets")):
        got = s.media_recv.get(kind)
        if s.record is None or not s.receives[kind] or got is None:
            continue
        path = os.path.join(s.record, name)
        try:
            out = subprocess.run(
                ["ffprobe", "-v", "error", f"-count_{what}", "-select_streams", kind[0] + ":0",
                 "-show_entries", f"stream=codec_name,nb_read_{what}", "-of", "csv=p=0", path],
                capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            problems.append(f"{s.label}: ffprobe {path}: {e}")
            continue
        fields = out.stdout.strip().split(",")
        if out.returncode != 0 or len(fields) != 2 or not fields[1].isdigit():
            problems.append(f"{s.label}: ffprobe cannot read {path}: {out.stderr.strip()[:200] or out.stdout.strip()[:200]}")
            continue
        lines.append(f"ffprobe {path}: {fields[0]}, {fields[1]} {what}")
        if int(fields[1]) != got.get("recorded") or not int(fields[1]):
            problems.append(f"{s.label}: {path} has {fields[1]} {what}, the peer recorded {got.get('recorded')}")
    return problems, lines


def media_finished(a, b):
    """--media: every sender wrote media-done, and the receivers passed or had MEDIA_SETTLE s."""
    senders = [s for s in (a, b) if any(s.sends.values())]
    if any(s.media_done_at is None for s in senders):
        return False
    if not media_checks(a, b):
        return True
    last = max([s.media_done_at for s in senders], default=time.monotonic())
    return time.monotonic() - last >= MEDIA_SETTLE


def media_summary(s):
    lines = []
    for kind in MEDIA_KINDS:
        for what, table in (("sent", s.media_sent), ("recv", s.media_recv)):
            m = table.get(kind)
            if m:
                fields = ", ".join(f"{k} {v}" for k, v in m.items() if k not in ("t", "dir", "kind"))
                lines.append(f"media {what} {kind}: {fields}")
    for p in s.plis:
        sent, at = p.get("sent_ms"), p.get("keyframe_ms")
        rtt = at - sent if isinstance(sent, int) and isinstance(at, int) else "?"
        lines.append(f"pli sent at {sent} ms, keyframe at {at} ms: round trip {rtt} ms")
    return lines


def kill_mode(args, a, b, pump, failures, started):
    """--kill-b-after-got: waits for the kill point, SIGKILLs B, waits for A to notice.
    Appends to `failures`; returns a line saying what A saw after the kill, and when."""
    n = args.kill_b_after_got
    pump(lambda: (a.ready() and b.ready() and a.got[0] >= n)
         or any(s.stdout_closed or s.failed() for s in (a, b)))
    for s in (a, b):
        if s.stdout_closed:
            failures.append(f"{s.label} closed its stdout (exited?) before the kill")
        if s.failed():
            failures.append(f"{s.label} reached failed before the kill")
        if "connected" not in s.states("conn"):
            failures.append(f"{s.label} never reported conn connected")
        if "open" not in s.states("dc"):
            failures.append(f"{s.label} never reported dc open")
    if a.got[0] < n:
        failures.append(f"A got {a.got[0]} messages, not the {n} the kill waits for")
    if failures:
        return "B not killed"
    mark = len(a.timeline)
    got_at_kill = a.got
    b.killed = True
    b.proc.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    kill_ms = int((killed_at - started) * 1000)
    limit = killed_at + args.kill_wait

    def after():
        return [(k, st, at) for k, st, _, at in a.timeline[mark:]]

    def noticed():
        seen = after()
        return a.stdout_closed or (any(k == "dc" and st == "closed" for k, st, _ in seen)
                                   and any(k == "conn" and st in ("disconnected", "failed") for k, st, _ in seen))

    pump(noticed, stop_at=limit)  # bounded by the kill wait, not by the run's --timeout
    seen = after()
    firsts = {}
    for k, st, at in seen:
        firsts.setdefault(f"{k} {st}", at - kill_ms)
    if a.stdout_closed:
        failures.append("A closed its stdout (exited?) after B was killed")
    if "dc closed" not in firsts:
        failures.append(f"A did not report dc closed within {args.kill_wait:.0f} s of the kill")
    if "conn disconnected" not in firsts and "conn failed" not in firsts:
        failures.append(f"A did not report conn disconnected or failed within {args.kill_wait:.0f} s of the kill")
    shown = ", ".join(f"{name} +{ms / 1000:.1f} s" for name, ms in firsts.items()) or "nothing"
    return (f"B SIGKILLed at bridge {kill_ms} ms with A at got {got_at_kill[0]} / {got_at_kill[1]}; "
            f"A then reported: {shown}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", required=True, help="command of peer A (offerer)")
    p.add_argument("--b", required=True, help="command of peer B (answerer)")
    p.add_argument("--timeout", type=float, default=60.0, help="overall limit in seconds (default 60)")
    p.add_argument("--title", help="heading of the printed result")
    p.add_argument("--verbose", action="store_true", help="pass the peers' stderr through")
    p.add_argument("--expect-a-got", type=int, metavar="N",
                   help="messages A must get (default: B's --count)")
    p.add_argument("--expect-b-got", type=int, metavar="N",
                   help="messages B must get (default: A's --count)")
    p.add_argument("--allow-loss", action="store_true",
                   help="pass with 1..expected messages received (partially reliable channels)")
    p.add_argument("--settle", type=float, default=2.0,
                   help="--allow-loss: seconds without a got line that end the wait (default 2)")
    p.add_argument("--hold", type=float, default=0.0, help="seconds to stay connected before close")
    p.add_argument("--sdp-last", action="store_true", help="forward each sdp after that side's eoc")
    p.add_argument("--kill-b-after-got", type=int, metavar="N",
                   help="SIGKILL B once A got N messages; A must then see dc closed and conn disconnected/failed")
    p.add_argument("--restarts", action="store_true",
                   help="peers renegotiate (ICE restart): a new sdp/cand/eoc round per sdp, at least two sdp each")
    p.add_argument("--media", action="store_true",
                   help="Media-JSONL peers: check media, pli and media-done lines (see above)")
    p.add_argument("--kill-wait", type=float, default=60.0,
                   help="--kill-b-after-got: seconds A gets to notice (default 60)")
    sys.exit(run(p.parse_args()))


if __name__ == "__main__":
    main()
