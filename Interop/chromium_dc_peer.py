#!/usr/bin/env python3
"""A WebRTC-JSONL data-channel peer (shared/docs/webrtc-jsonl.md) that is headless Chromium.

    chromium_dc_peer.py (--offer | --answer) [--count N] [--size BYTES] [--text] [--label L]
                        [--unordered] [--max-retransmits N] [--bind ADDR] [--name NAME]
                        [--loopback] [--stats-out FILE] [--chrome-log FILE] [--restart-after N]
                        [--chromium PATH] [--chromedriver PATH]

Starts chromedriver (on a free 127.0.0.1 port of the current network namespace) and, through it,
headless Chromium on about:blank, installs Interop/chromium_dc_peer.js and drives one
RTCPeerConnection with WebRTC defaults (no ICE servers, mDNS host candidates: remote peers see
`….local` names and learn Chromium's address as peer-reflexive). The remote peer's lines from
stdin go to the page; what the page says (sdp, cand, eoc, state) goes to stdout, with `got`
written from the page's message counter (at most every 100 ms while it changes, and at close).

--restart-after N (an extension of WebRTC-JSONL, as dc-peer's): once the page got N messages it
calls `pc.restartIce()` and sends the new offer (a new sdp line, cand lines, eoc), whichever role it
had; the bridge's --restarts checks the round.

Standard library only: WebDriver is spoken over HTTP directly (no selenium).

--bind is accepted for compatibility and ignored (Chromium gathers on every interface of its
namespace). --loopback adds --allow-loopback-in-peer-connection and turns mDNS off, for runs on
127.0.0.1 without namespaces. --stats-out FILE writes, at close, a JSON summary of the page's
counters and Chromium's getStats (data-channel messagesSent/Received and bytes, transport and
selected candidate pair, the SCTP transport's state, bufferedAmount); the same summary goes to
stderr as one `stats {…}` line. A `progress` line on stderr every second says got/sent/buffered
and the transport's packet and byte counters, so a stall shows whether Chromium kept
(re)transmitting while the other side's `got` stood still.
"""

import argparse
import json
import os
import queue
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from browser_driver import (WebDriver, chromium_flags, feed_page, install_page, log, take_page,  # noqa: E402
                            read_jsonl, report_pair, start_chromedriver, stop_chromedriver, write,
                            write_closed, wait_status)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    role = ap.add_mutually_exclusive_group(required=True)
    role.add_argument("--offer", action="store_true")
    role.add_argument("--answer", action="store_true")
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--text", action="store_true")
    ap.add_argument("--label", default="data")
    ap.add_argument("--unordered", action="store_true")
    ap.add_argument("--max-retransmits", type=int)
    ap.add_argument("--bind", help="ignored: Chromium gathers on its namespace's interfaces")
    ap.add_argument("--name", default="chromium")
    ap.add_argument("--stun"), ap.add_argument("--turn"), ap.add_argument("--turn-user"), ap.add_argument("--turn-pass")
    ap.add_argument("--relay-only", action="store_true")
    ap.add_argument("--loopback", action="store_true", help="--allow-loopback-in-peer-connection, mDNS off")
    ap.add_argument("--restart-after", type=int, help="restart ICE once N messages arrived (a new offer)")
    ap.add_argument("--stats-out", help="write the close-time summary (page counters + getStats) here")
    ap.add_argument("--chrome-log", help="Chromium's own stderr log (--enable-logging=stderr) goes here")
    ap.add_argument("--chrome-vmodule", help="e.g. 'dcsctp*=2' (with --chrome-log)")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    a = ap.parse_args()
    if a.stun or a.turn or a.relay_only:
        log("STUN/TURN options are not supported by this peer; ignored")

    tmp = tempfile.mkdtemp(prefix="chromium-dc-peer-")
    driver_proc, base = start_chromedriver(a.chromedriver, tmp, env=dict(os.environ))
    drv = WebDriver(base)
    inbox = queue.Queue()
    closing = threading.Event()

    def read_stdin():
        for m in read_jsonl():
            inbox.put(m)
        closing.set()  # close or EOF

    rc = 0
    try:
        if not wait_status(base, time.monotonic() + 15):
            raise RuntimeError("chromedriver did not come up in 15 s")
        flags = chromium_flags(tmp, a.loopback)
        if a.chrome_log:
            flags += ["--enable-logging", "--v=0"]
            if a.chrome_vmodule:
                flags.append(f"--vmodule={a.chrome_vmodule}")
            flags.append(f"--log-file={a.chrome_log}")
        caps = drv.start(a.chromium, flags)
        log(f"{caps.get('browserName')} {caps.get('browserVersion')} via chromedriver on {base} "
            f"({'loopback, mDNS off' if a.loopback else 'WebRTC defaults, mDNS on'})")
        drv.get("about:blank")
        install_page(drv, "chromium_dc_peer.js")
        opts = {"count": a.count, "size": a.size, "text": a.text, "label": a.label,
                "unordered": a.unordered, "maxRetransmits": a.max_retransmits,
                "restartAfter": a.restart_after}
        drv.execute("return window.peer.start(arguments[0], arguments[1]);", "offer" if a.offer else "answer", opts)
        threading.Thread(target=read_stdin, daemon=True).start()

        reported = (0, 0)
        last_got_write = 0.0
        last_progress = time.monotonic()
        pair_done = False

        def poll(final=False):
            nonlocal reported, last_got_write
            r = take_page(drv)
            got = (r["got"], r["gotBytes"])
            t = time.monotonic()
            if got != reported and (final or t - last_got_write >= 0.1):
                write({"t": "got", "n": got[0], "bytes": got[1]})
                reported, last_got_write = got, t
            return r

        while not closing.is_set():
            feed_page(drv, inbox)
            r = poll()
            if not pair_done:
                pair_done = report_pair(drv)
            if time.monotonic() - last_progress >= 1.0:
                last_progress = time.monotonic()
                w = drv.execute_async("window.peer.wire()", timeout=5) or {}
                log(f"progress got {r['got']} ({r['gotBytes']} B), sent {r['sent']}, bufferedAmount {r['buffered']}; "
                    f"transport packets sent {w.get('pktSent')} received {w.get('pktRecv')}, "
                    f"bytes sent {w.get('bytesSent')} received {w.get('bytesRecv')}")
            closing.wait(0.05)

        # close: the totals, the stats (before pc.close() drops them), then the connection
        poll(final=True)
        try:
            s = drv.execute_async("window.peer.summary()", timeout=10)
            log("stats " + json.dumps(s, separators=(",", ":")))
            if a.stats_out:
                with open(a.stats_out, "w") as f:
                    json.dump(s, f, indent=1)
        except Exception as e:
            log(f"getStats failed: {e}")
        drv.execute("return window.peer.close();")
        poll(final=True)
    except Exception as e:
        log(f"error: {type(e).__name__}: {e}")
        rc = 1
    finally:
        stop_chromedriver(drv, driver_proc)
        shutil.rmtree(tmp, ignore_errors=True)
        write_closed()
    return rc


if __name__ == "__main__":
    sys.exit(main())
