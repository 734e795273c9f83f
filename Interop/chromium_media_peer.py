#!/usr/bin/env python3
"""A Media-JSONL peer (docs/media-jsonl.md; WebRTC-JSONL plus audio and video) that is headless
Chromium with its fake camera and microphone.

    chromium_media_peer.py (--offer | --answer) [--send-video [fake]] [--send-audio [fake]]
                           [--receive-video] [--receive-audio] [--no-data] [--duration S]
                           [--video-codec VP8|H264] [--fps N] [--width W --height H]
                           [--count N] [--size BYTES] [--label L] [--loopback] [--name NAME]
                           [--stats-out FILE] [--chrome-log FILE] [--chromium PATH] [--chromedriver PATH]

Starts chromedriver (a free 127.0.0.1 port of the current network namespace) and through it headless
Chromium with --use-fake-device-for-media-stream (a 640×480 test pattern at --fps, default 30, and
a beeping microphone) and --use-fake-ui-for-media-stream, opens a page served by this program on
127.0.0.1 (a secure context: getUserMedia needs one), installs Interop/chromium_media_peer.js and
drives one RTCPeerConnection with WebRTC defaults (no ICE servers, mDNS host candidates; --loopback
turns mDNS off and allows 127.0.0.1, as chromium_dc_peer.py).

Media (Media-JSONL argv): `--send-video` / `--send-audio` take no file or the word `fake`: this
peer sends only Chromium's fake devices (a file name is an error). The offerer adds one transceiver
per kind it sends or receives (sendrecv, sendonly or recvonly); the answerer puts its tracks on the
offered sections and sets their directions. `--duration S` (default 10) of media from the first
frame sent; then the local tracks stop and the peer writes its final `sent` counts and
`{"t":"media-done"}`, and keeps receiving until close. Every second (and at close, before the
connection closes) it writes from getStats:
  {"t":"media","dir":"sent","kind":K,"frames":F,"packets":P,"bytes":B,…}  outbound-rtp: packets =
      packetsSent − retransmittedPacketsSent (the media packets; retransmissions in `retransmitted`),
      frames = framesSent (video) or packets (audio, one Opus frame per packet); extra: encoded
      (framesEncoded), keyframes (keyFramesEncoded), plis / firs / nacks received, retransmitted,
      codec, width, height, fps, limitation, target (targetBitrate), encoder, bwe (the selected
      candidate pair's availableOutgoingBitrate: the send-side bandwidth estimate)
  {"t":"media","dir":"recv","kind":K,"frames":F,"keyframes":KF,"packets":P,"lost":L,"nacks":N,
      "plis":PL,"decoded":D,…}  inbound-rtp: video frames = decoded = framesDecoded (received =
      framesReceived, which leaves out frames completed by a retransmission), keyframes =
      keyFramesDecoded, plis / nacks = the ones Chromium sent; audio
      frames = packetsReceived, decoded = totalSamplesReceived; extra: codec, dropped, freezes,
      concealed, decoder. No `incomplete`: Chromium does not count it.
`--pli-at` and `--record` are accepted and ignored with a log line (a page cannot ask for a
keyframe or get the encoded frames). --video-codec puts that codec first (setCodecPreferences; an
error when this build lacks it). The data channel (unless --no-data) sends --count (default 1)
messages of --size (default 64) bytes and reports `got` as WebRTC-JSONL.

stderr: Chromium's codecs (send/receive), the fake devices' settings, page notes, and a `media`
line every second. After media-done no more `sent` lines: the counts then are the final ones.
--stats-out FILE gets, as JSON, "sent" (the final sent counts, by kind: the fields of the media
lines), "sentAtClose" (the same at close: PLIs and NACKs that came later), "recv" (at close),
"mediaSeconds" (first frame sent to media-done), "encoders" (by kind), "rates" (video frames and audio packets sent per
second, by kind, between the first report with a frame and the end of --duration) and the
page's "errors".
"""

import argparse
import http.server
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
                            read_jsonl, report_pair, start_chromedriver, stop_chromedriver, wait_status, write,
                            write_closed)

PAGE = b"<!doctype html><meta charset=utf-8><title>chromium media peer</title><body></body>"


def serve_page():
    """A one-page HTTP server on 127.0.0.1 (a secure context for getUserMedia); returns (server, url)."""
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}/"


def fake_or_error(ap, flag, value):
    if value not in (None, "fake"):
        ap.error(f"{flag} {value}: this peer sends only Chromium's fake devices ({flag} or {flag} fake)")
    return value == "fake"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    role = ap.add_mutually_exclusive_group(required=True)
    role.add_argument("--offer", action="store_true")
    role.add_argument("--answer", action="store_true")
    ap.add_argument("--send-video", nargs="?", const="fake", metavar="fake")
    ap.add_argument("--send-audio", nargs="?", const="fake", metavar="fake")
    ap.add_argument("--receive-video", action="store_true")
    ap.add_argument("--receive-audio", action="store_true")
    ap.add_argument("--no-data", action="store_true", help="no data channel (media only)")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of media to send (default 10)")
    ap.add_argument("--pli-at", type=float, help="ignored: a page cannot ask for a keyframe")
    ap.add_argument("--record", help="ignored: a page does not get the encoded frames")
    ap.add_argument("--video-codec", help="VP8, H264, VP9, AV1: put it first (setCodecPreferences)")
    ap.add_argument("--fps", type=int, default=30, help="fake camera frame rate (default 30)")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--label", default="data")
    ap.add_argument("--bind", help="ignored: Chromium gathers on its namespace's interfaces")
    ap.add_argument("--name", default="chromium")
    ap.add_argument("--loopback", action="store_true", help="--allow-loopback-in-peer-connection, mDNS off")
    ap.add_argument("--stats-out", help="write the close-time getStats summary here")
    ap.add_argument("--chrome-log", help="Chromium's own log (--enable-logging) goes here")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    a = ap.parse_args()
    send_video = fake_or_error(ap, "--send-video", a.send_video) if a.send_video is not None else False
    send_audio = fake_or_error(ap, "--send-audio", a.send_audio) if a.send_audio is not None else False
    if a.pli_at is not None:
        log("--pli-at ignored: a page cannot ask for a keyframe (Chromium sends PLI on its own when decoding needs one)")
    if a.record:
        log("--record ignored: a page does not get the encoded frames")

    tmp = tempfile.mkdtemp(prefix="chromium-media-peer-")
    driver_proc, base = start_chromedriver(a.chromedriver, tmp)
    drv = WebDriver(base)
    page_srv, page_url = serve_page()
    inbox = queue.Queue()
    closing = threading.Event()

    def read_stdin():
        for m in read_jsonl():
            if m.get("t") in ("sdp", "cand", "eoc"):
                inbox.put(m)
        closing.set()  # close or EOF

    rc = 0
    last = {}
    try:
        if not wait_status(base, time.monotonic() + 15):
            raise RuntimeError("chromedriver did not come up in 15 s")
        flags = chromium_flags(tmp, a.loopback, extra=[
            f"--use-fake-device-for-media-stream=fps={a.fps}", "--use-fake-ui-for-media-stream",
            "--autoplay-policy=no-user-gesture-required"])
        if a.chrome_log:
            flags += ["--enable-logging", "--v=0", f"--log-file={a.chrome_log}"]
        caps = drv.start(a.chromium, flags)
        log(f"{caps.get('browserName')} {caps.get('browserVersion')} via chromedriver on {base}, page {page_url} "
            f"({'loopback, mDNS off' if a.loopback else 'WebRTC defaults, mDNS on'})")
        drv.get(page_url)
        install_page(drv, "chromium_media_peer.js")
        c = drv.execute("return window.peer.capabilities();")
        log(f"codecs: video send {c['video']['send']}")
        log(f"codecs: video receive {c['video']['recv']}")
        log(f"codecs: audio send {c['audio']['send']}")
        opts = {"sendVideo": send_video, "sendAudio": send_audio, "receiveVideo": a.receive_video,
                "receiveAudio": a.receive_audio, "data": not a.no_data, "count": a.count, "size": a.size,
                "label": a.label, "videoCodec": a.video_codec, "fps": a.fps, "width": a.width, "height": a.height}
        started = drv.execute_async("window.peer.start(arguments[0], arguments[1])", "offer" if a.offer else "answer",
                                    opts, timeout=20)
        if isinstance(started, dict) and started.get("error"):
            raise RuntimeError(f"page start failed: {started['error']}")
        log(f"fake devices: {started}")
        threading.Thread(target=read_stdin, daemon=True).start()

        reported_got = (0, 0)
        pair_done = False
        sending = send_video or send_audio
        media_started = None   # monotonic time of the first report with a frame sent
        first = {}             # the sent frames (audio: packets) by kind in that report
        media_done = False
        next_media = time.monotonic() + 1.0

        def poll():
            nonlocal reported_got
            r = take_page(drv)
            got = (r["got"], r["gotBytes"])
            if got != reported_got:
                write({"t": "got", "n": got[0], "bytes": got[1]})
                reported_got = got
            return r

        def report(sent_lines=True):
            """getStats → media lines (sent ones until media-done, then the counts stay as they were)."""
            m = drv.execute_async("window.peer.media()", timeout=10) or {}
            if isinstance(m, dict) and m.get("error"):
                log(f"getStats failed: {m['error']}")
                return {}
            for d in ("sent", "recv"):
                if d == "sent" and not sent_lines:
                    continue
                for kind, v in sorted((m.get(d) or {}).items()):
                    line = {"t": "media", "dir": d, "kind": kind}
                    line.update({k: x for k, x in v.items() if x is not None})
                    write(line)
            for kind, v in (m.get("sent") or {}).items():
                if v.get("encoder"):  # gone from the stats once the track stopped
                    last.setdefault("encoders", {})[kind] = v["encoder"]
            if sent_lines:
                last["sent"] = m.get("sent") or {}
            else:
                last["sentAtClose"] = m.get("sent") or {}
            last["recv"] = m.get("recv") or {}
            parts = [f"{d} {kind} " + " ".join(f"{k}={x}" for k, x in v.items() if k in
                     ("frames", "decoded", "keyframes", "packets", "lost", "nacks", "plis", "codec", "encoder", "decoder", "fps", "width",
                      "height", "limitation", "bwe", "target"))
                     for d in ("sent", "recv") for kind, v in sorted((m.get(d) or {}).items())]
            log("media " + ("; ".join(parts) or "none yet"))
            return m

        while not closing.is_set():
            feed_page(drv, inbox)
            poll()
            if not pair_done:
                pair_done = report_pair(drv)
            t = time.monotonic()
            if t >= next_media:
                next_media = t + 1.0
                m = report(sent_lines=not media_done)
                if sending and media_started is None and any(v.get("frames") for v in (m.get("sent") or {}).values()):
                    media_started = t
                    first = {k: v.get("frames", 0) for k, v in (m.get("sent") or {}).items()}
                    log(f"media started; {a.duration:g} s to send")
            if sending and media_started is not None and not media_done and t - media_started >= a.duration:
                # the rates (frames or packets per second) between the first report with frames and now
                m = report()
                span = time.monotonic() - media_started
                last["rates"] = {k: round((v.get("frames", 0) - first.get(k, 0)) / span, 1)
                                 for k, v in (m.get("sent") or {}).items()}
                log(f"sent per second: {last['rates']}")
                drv.execute("return window.peer.stopSending();")
                closing.wait(0.3)  # the last frames leave the encoder and pacer
                report()
                media_done = True
                last["mediaSeconds"] = round(time.monotonic() - media_started, 3)
                write({"t": "media-done"})
                log(f"media done after {time.monotonic() - media_started:.1f} s")
            closing.wait(0.05)

        # close: the last counts (before pc.close() drops the stats), then the connection
        poll()
        report(sent_lines=not media_done)
        drv.execute("return window.peer.close();")
        r = poll()
        last["errors"] = r.get("errors") or []
        if last["errors"]:
            log(f"page errors: {last['errors']}")
        if a.stats_out:
            with open(a.stats_out, "w") as f:
                json.dump(last, f, indent=1)
    except Exception as e:
        log(f"error: {type(e).__name__}: {e}")
        rc = 1
    finally:
        stop_chromedriver(drv, driver_proc)
        page_srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
        write_closed()
    return rc


if __name__ == "__main__":
    sys.exit(main())
