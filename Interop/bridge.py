#!/usr/bin/env python3
"""ICE-JSONL bridge: wires two peer programs together and checks that they connect.

    bridge.py --a "CMD …" --b "CMD …" [--timeout 60] [--hold SECONDS] [--cred-last]
              [--dtls | --expect-dtls-fail] [--verbose]

Starts peer A with --controlling and peer B with --controlled (appended unless the command
already names a role), forwards cred/cand/eoc crosswise, records each side's state timeline and
prints both timelines to stdout at the end. Passes (exit 0) when both reached connected or
completed, each side's `got` equals the other side's --count datagrams and --count × --size
bytes, and both wrote `state closed` and exited 0 after `{"t":"close"}`. Standard library only.
Every wait is bounded; the whole run by --timeout (default 60 s).

--hold S keeps the connection up S seconds after the datagrams arrived (checks consent freshness:
both sides must stay connected/completed meanwhile). --cred-last forwards each side's `cred` only
after its `eoc`, so the receiving peer sees candidates before credentials and must queue them.

DTLS-over-ICE-JSONL (docs/dtls-jsonl.md): `dtls` lines are forwarded like `cred` (and held with it
under --cred-last), `dtls-state` lines are recorded and printed. --dtls also requires both sides to
report dtls-state connected (the datagrams then travel over DTLS). --expect-dtls-fail passes
instead when both sides reach ICE connected/completed, then both report dtls-state failed, neither
reports dtls-state connected nor receives any datagram, and both close cleanly. Either flag also
requires each side to write exactly one `dtls` line, after `cred` and before its first `cand`.
The peers' own DTLS flags (--dtls, --dtls-role, --bad-fingerprint) go in their commands.
"""

import argparse
import json
import queue
import shlex
import subprocess
import sys
import threading
import time

FORWARDED = {"cred", "cand", "eoc", "dtls"}
CONNECTED = {"connected", "completed"}
CLOSE_WAIT = 10.0  # seconds each peer gets to exit after close (within the overall timeout)
FAIL_GRACE = 0.5  # --expect-dtls-fail: seconds to keep listening (for stray `got`) after both failed


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
        if "--controlling" not in argv and "--controlled" not in argv:
            argv.append("--" + role)
        self.label = label
        self.argv = argv
        self.role = "controlling" if "--controlling" in argv else "controlled"
        self.count = flag_value(argv, "--count", 1)
        self.size = flag_value(argv, "--size", 64)
        self.started = started
        self.verbose = verbose
        self.timeline = []  # (state, peer ms, bridge ms)
        self.pairs = []
        self.got = (0, 0)
        self.got_lines = 0
        self.sent_msgs = {"cred": 0, "cand": 0, "eoc": 0, "dtls": 0}
        self.dtls_line = None  # (setup, fingerprint) of the `dtls` line it wrote
        self.dtls_timeline = []  # (state, reason, peer ms, bridge ms)
        self.protocol_errors = []
        self.stderr_lines = []
        self.stdout_closed = False
        self.returncode = None
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

    @property
    def states(self):
        return [s for s, _, _ in self.timeline]

    def reached_connected(self):
        return any(s in CONNECTED for s in self.states)

    @property
    def dtls_states(self):
        return [s for s, _, _, _ in self.dtls_timeline]


def run(args):
    started = time.monotonic()
    deadline = started + args.timeout
    events = queue.Queue()
    a = Side("A", args.a, "controlling", events, started, args.verbose)
    b = Side("B", args.b, "controlled", events, started, args.verbose)
    other = {a: b, b: a}
    held_cred = {}
    failures = []

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
            side.protocol_errors.append(f"stdout line is not an ICE-JSONL message ({e}): {line[:200]!r}")
            return
        if t in FORWARDED:
            if t == "cred" and side.sent_msgs["cand"]:
                side.protocol_errors.append("cred written after a cand (cred must come first)")
            if t == "dtls":
                if not side.sent_msgs["cred"]:
                    side.protocol_errors.append("dtls written before cred (it must come right after cred)")
                elif side.sent_msgs["cand"]:
                    side.protocol_errors.append("dtls written after a cand (it must come right after cred)")
                side.dtls_line = (msg.get("setup"), msg.get("fingerprint"))
            side.sent_msgs[t] += 1
            lines = [line]
            if args.cred_last and t in ("cred", "dtls") and not side.sent_msgs["eoc"]:
                held_cred.setdefault(side, []).append(line)
                lines = []
            elif args.cred_last and t == "eoc":
                lines = [line] + held_cred.pop(side, [])
            for out in lines:
                if not other[side].write(out):
                    side.protocol_errors.append(f"could not forward to {other[side].label}: its stdin is closed")
        elif t == "state":
            side.timeline.append((msg.get("s"), msg.get("ms"), at))
        elif t == "got":
            side.got = (msg.get("n"), msg.get("bytes"))
            side.got_lines += 1
        elif t == "pair":
            side.pairs.append((msg.get("local"), msg.get("remote")))
        elif t == "dtls-state":
            side.dtls_timeline.append((msg.get("s"), msg.get("reason"), msg.get("ms"), at))
        else:
            side.protocol_errors.append(f"unknown message type {t!r}")

    def pump(until):
        """Handles events until `until()` holds or the deadline passes; True if it holds."""
        while not until():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                side, line, at = events.get(timeout=min(left, 0.1))
            except queue.Empty:
                continue
            handle(side, line, at)
        return True

    def done():
        if any(s.stdout_closed or "failed" in s.states for s in (a, b)):
            return True  # nothing more to wait for
        if args.expect_dtls_fail:
            return all("failed" in s.dtls_states for s in (a, b))
        if args.dtls and any("failed" in s.dtls_states for s in (a, b)):
            return True
        return all(
            s.reached_connected() and s.got == (other[s].count, other[s].count * other[s].size)
            and (not args.dtls or "connected" in s.dtls_states)
            for s in (a, b)
        )

    pump(done)
    if args.expect_dtls_fail and all("failed" in s.dtls_states for s in (a, b)):
        grace_until = min(deadline, time.monotonic() + FAIL_GRACE)
        pump(lambda: time.monotonic() >= grace_until)
    for s in (a, b):
        if s.stdout_closed:
            failures.append(f"{s.label} closed its stdout (exited?) before close")
        if "failed" in s.states:
            failures.append(f"{s.label} reached failed")
        if not s.reached_connected():
            failures.append(f"{s.label} never reached connected/completed")
        if args.expect_dtls_fail:
            if "failed" not in s.dtls_states:
                failures.append(f"{s.label} never reported dtls-state failed")
            if "connected" in s.dtls_states:
                failures.append(f"{s.label} reported dtls-state connected, expected the handshake to fail")
            if s.got_lines or s.got != (0, 0):
                failures.append(f"{s.label} got {s.got[0]} datagrams / {s.got[1]} bytes, expected none")
            continue
        if args.dtls:
            if "failed" in s.dtls_states:
                failures.append(f"{s.label} reported dtls-state failed: {s.dtls_timeline[s.dtls_states.index('failed')][1]}")
            elif "connected" not in s.dtls_states:
                failures.append(f"{s.label} never reported dtls-state connected")
        want = (other[s].count, other[s].count * other[s].size)
        if s.got != want:
            failures.append(f"{s.label} got {s.got[0]} datagrams / {s.got[1]} bytes, expected {want[0]} / {want[1]}")
    if time.monotonic() >= deadline:
        failures.append(f"timed out after {args.timeout:.0f} s")
    elif args.hold > 0 and not failures:
        marks = {s: len(s.timeline) for s in (a, b)}
        hold_until = min(deadline, time.monotonic() + args.hold)
        pump(lambda: time.monotonic() >= hold_until or a.stdout_closed or b.stdout_closed)
        for s in (a, b):
            changed = [st for st, _, _ in s.timeline[marks[s]:] if st not in CONNECTED]
            if changed or s.stdout_closed:
                failures.append(f"{s.label} did not stay connected for {args.hold:.0f} s: {changed or 'stdout closed'}")

    # Close: {"t":"close"}, then EOF; each peer must write `state closed` and exit 0.
    for s in (a, b):
        s.write('{"t":"close"}')
        s.close_stdin()
    close_deadline = min(deadline + CLOSE_WAIT, time.monotonic() + CLOSE_WAIT)
    deadline = close_deadline
    pump(lambda: a.stdout_closed and b.stdout_closed)
    for s in (a, b):
        try:
            s.returncode = s.proc.wait(timeout=max(0.1, close_deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            s.proc.kill()
            s.proc.wait(timeout=5)
            failures.append(f"{s.label} did not exit within {CLOSE_WAIT:.0f} s of close; killed")
            continue
        if s.returncode != 0:
            failures.append(f"{s.label} exited with status {s.returncode}")
        if not s.states or s.states[-1] != "closed":
            failures.append(f"{s.label} did not write state closed last")
        if not s.states or s.states[0] != "new":
            failures.append(f"{s.label} did not write state new first")
        if s.sent_msgs["cred"] != 1 or s.sent_msgs["eoc"] != 1 or not s.sent_msgs["cand"]:
            failures.append(f"{s.label} wrote cred×{s.sent_msgs['cred']}, cand×{s.sent_msgs['cand']}, eoc×{s.sent_msgs['eoc']}")
        if (args.dtls or args.expect_dtls_fail) and s.sent_msgs["dtls"] != 1:
            failures.append(f"{s.label} wrote dtls×{s.sent_msgs['dtls']}, expected exactly one")
        failures.extend(f"{s.label}: {e}" for e in s.protocol_errors)

    title = args.title or f"{' '.join(a.argv)}  <->  {' '.join(b.argv)}"
    print(f"=== {title}")
    for s in (a, b):
        print(f"  {s.label} ({s.role}): {' '.join(s.argv)}")
        for state, peer_ms, bridge_ms in s.timeline:
            print(f"    state {state:<12} peer {peer_ms:>6} ms   bridge {bridge_ms:>6} ms")
        for local, remote in s.pairs:
            print(f"    pair  local {local} / remote {remote}")
        if s.dtls_line is not None:
            print(f"    dtls  setup {s.dtls_line[0]}, fingerprint {s.dtls_line[1]}")
        for state, reason, peer_ms, bridge_ms in s.dtls_timeline:
            print(f"    dtls-state {state:<12} peer {peer_ms:>6} ms   bridge {bridge_ms:>6} ms   {reason or ''}".rstrip())
        print(f"    got   {s.got[0]} datagrams, {s.got[1]} bytes ({s.got_lines} got lines); "
              f"sent cand×{s.sent_msgs['cand']}; exit {s.returncode}")
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


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", required=True, help="command of peer A (controlling)")
    p.add_argument("--b", required=True, help="command of peer B (controlled)")
    p.add_argument("--timeout", type=float, default=60.0, help="overall limit in seconds (default 60)")
    p.add_argument("--title", help="heading of the printed result")
    p.add_argument("--hold", type=float, default=0.0, help="seconds to stay connected before close")
    p.add_argument("--cred-last", action="store_true", help="forward cred after the candidates")
    p.add_argument("--verbose", action="store_true", help="pass the peers' stderr through")
    dtls = p.add_mutually_exclusive_group()
    dtls.add_argument("--dtls", action="store_true", help="also require dtls-state connected on both sides")
    dtls.add_argument("--expect-dtls-fail", action="store_true",
                      help="pass iff ICE connects, both report dtls-state failed and no datagram arrives")
    sys.exit(run(p.parse_args()))


if __name__ == "__main__":
    main()
