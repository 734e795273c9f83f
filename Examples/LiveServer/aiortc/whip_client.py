#!/usr/bin/env python3
"""A WHIP publisher and a WHEP viewer on aiortc (RFC 9725 / draft-ietf-wish-whep), for
scripts/live-aiortc-test.sh.

    whip_client.py publish --url http://127.0.0.1:8080/whip/STREAM --file media.webm [--duration S]
    whip_client.py watch   --url http://127.0.0.1:8080/whep/STREAM --record video.mkv --record-audio audio.mka
                           [--duration S]
    common: [--token T] [--bind 127.0.0.1] [--timeout S]

publish: aiortc's MediaPlayer decodes the file (looped) and aiortc encodes it again (VP8, Opus);
sendonly audio and video sections; the offer (every candidate: aiortc gathers before it returns
from setLocalDescription) is POSTed as application/sdp, the 201's body is the answer, its
Location the session. Sends for --duration s after `connected` (or until SIGTERM/SIGINT), then
DELETEs the session (a status other than 200 fails).

watch: recvonly audio and video; aiortc decodes what arrives and two MediaRecorders record it
(re-encoded: H.264 for .mkv/.mp4, VP8 for .webm, which libvpx encodes too slowly on the event loop
of a busy machine; AAC for .mka) for --duration s after `connected`, then the session is DELETEd.
One file per kind: in a shared container the first audio packet muxed writes the header and opens
the video encoder at its default 640x480 before the first video frame can set its size, and the
recorder's video task then dies on "Cannot change width after codec is open" (1 frame recorded:
the CI failed so whenever the viewer's first audio frame beat its first keyframe). A 404 (no
publisher yet) is retried for up to --timeout s. Prints `frames video=N audio=M` (frames the
recorders took); a recorder task that failed fails the run.

Network confinement as Interop/aiortc_dc_peer.py: no ICE servers, host candidates on --bind alone
(aioice's discovery leaves 127.0.0.1 out). Exit status 0 on success, 1 on any failure, 2 when
--timeout passes.
"""

import argparse
import asyncio
import logging
import signal
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from aioice import ice as aioice_ice
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer, MediaRecorder
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger("whip-client")


class HttpError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:200]}")
        self.status = status


def request(method: str, url: str, token: str | None, body: bytes | None = None, content_type: str | None = None):
    """One blocking HTTP request → (status, headers, body); run in a thread."""
    req = urllib.request.Request(url, data=body, method=method)
    if content_type:
        req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=15) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode(errors="replace")


class Counted(MediaStreamTrack):
    """Passes a remote track's frames on to the recorder, counting them."""

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = source.kind
        self.source = source
        self.frames = 0

    async def recv(self):
        frame = await self.source.recv()
        self.frames += 1
        return frame


class Client:
    def __init__(self, args) -> None:
        self.args = args
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.location = None
        self.connected = asyncio.Event()
        self.failed = asyncio.Event()

        @self.pc.on("connectionstatechange")
        def on_state() -> None:
            log.info("connection %s", self.pc.connectionState)
            if self.pc.connectionState == "connected":
                self.connected.set()
            elif self.pc.connectionState == "failed":
                self.failed.set()

    async def negotiate(self, deadline: float) -> None:
        """POSTs the offer (404 retried until `deadline`: the stream may have no publisher yet)."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        offer = self.pc.localDescription.sdp.encode()
        while True:
            status, headers, body = await asyncio.to_thread(
                request, "POST", self.args.url, self.args.token, offer, "application/sdp")
            if status == 201:
                break
            if status in (404, 429) and time.monotonic() < deadline:
                log.info("POST: %d, retrying", status)
                await asyncio.sleep(0.5)
                continue
            raise HttpError(status, body)
        location = headers.get("Location")
        if not location:
            raise HttpError(status, "201 without a Location")
        self.location = urllib.parse.urljoin(self.args.url, location)
        log.info("session %s, ETag %s", self.location, headers.get("ETag"))
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))

    async def wait_connected(self, deadline: float) -> None:
        waits = [asyncio.ensure_future(e.wait()) for e in (self.connected, self.failed)]
        await asyncio.wait(waits, timeout=max(0.1, deadline - time.monotonic()), return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()
        if not self.connected.is_set():
            raise RuntimeError(f"not connected ({self.pc.connectionState})")

    async def end(self) -> None:
        if self.location:
            status, _, body = await asyncio.to_thread(request, "DELETE", self.location, self.args.token)
            log.info("DELETE: %d", status)
            if status != 200:
                raise HttpError(status, body)
        await self.pc.close()


async def publish(args) -> int:
    client = Client(args)
    player = MediaPlayer(args.file, loop=True)
    if player.video is None or player.audio is None:
        raise SystemExit(f"{args.file} needs a video and an audio stream")
    client.pc.addTransceiver(player.video, direction="sendonly")
    client.pc.addTransceiver(player.audio, direction="sendonly")
    deadline = time.monotonic() + args.timeout
    try:
        await client.negotiate(deadline)
        await client.wait_connected(deadline)
        print("publishing", flush=True)
        # Until --duration passes or SIGTERM/SIGINT comes; either way the session is DELETEd.
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        try:
            await asyncio.wait_for(stop.wait(), timeout=args.duration)
        except asyncio.TimeoutError:
            pass
        stats = await client.pc.getStats()
        for s in stats.values():
            if s.type == "outbound-rtp":
                print(f"sent {s.kind} packets={s.packetsSent} bytes={s.bytesSent}", flush=True)
        await client.end()
    finally:
        player.video.stop()
        player.audio.stop()
        await client.pc.close()
    return 0


async def watch(args) -> int:
    client = Client(args)
    recorders = {"video": MediaRecorder(args.record), "audio": MediaRecorder(args.record_audio)}
    counted = {}

    @client.pc.on("track")
    def on_track(track) -> None:
        log.info("track %s %s", track.kind, track.id)
        counted[track.kind] = Counted(track)
        recorders[track.kind].addTrack(counted[track.kind])

    client.pc.addTransceiver("video", direction="recvonly")
    client.pc.addTransceiver("audio", direction="recvonly")
    deadline = time.monotonic() + args.timeout
    try:
        await client.negotiate(deadline)
        await client.wait_connected(deadline)
        for recorder in recorders.values():
            await recorder.start()
        print("recording", flush=True)
        await asyncio.sleep(args.duration)
        failures = recorder_failures(recorders.values())
        for recorder in recorders.values():
            await recorder.stop()
        if failures:
            raise RuntimeError(f"recording failed: {'; '.join(failures)}")
        frames = {kind: t.frames for kind, t in counted.items()}
        print(f"frames video={frames.get('video', 0)} audio={frames.get('audio', 0)}", flush=True)
        await client.end()
    finally:
        await client.pc.close()
    return 0


def recorder_failures(recorders) -> list[str]:
    """What ended the recorders' tasks early (MediaRecorder does not say: a task that raised
    just stops taking frames)."""
    failures = []
    for recorder in recorders:
        for track, context in recorder._MediaRecorder__tracks.items():
            task = context.task
            if task is not None and task.done() and not task.cancelled() and task.exception() is not None:
                failures.append(f"{track.kind}: {task.exception()!r}")
    return failures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=("publish", "watch"))
    p.add_argument("--url", required=True, help="the WHIP or WHEP endpoint")
    p.add_argument("--token", help="the Bearer token")
    p.add_argument("--file", help="publish: the media file (video and audio)")
    p.add_argument("--record", help="watch: the file to record the video to (.mkv)")
    p.add_argument("--record-audio", help="watch: the file to record the audio to (.mka)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of media after connected (default 10)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to connect, 404s retried (default 30)")
    p.add_argument("--bind", default="127.0.0.1", help="gather only on this address (default 127.0.0.1)")
    p.add_argument("--name", default=None, help="the log's name")
    args = p.parse_args()
    if args.mode == "publish" and not args.file:
        p.error("publish needs --file")
    if args.mode == "watch" and not (args.record and args.record_audio):
        p.error("watch needs --record and --record-audio")
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format=f"%(asctime)s {args.name or args.mode} %(name)s %(levelname)s: %(message)s")
    for noisy in ("aioice", "aiortc", "libav"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    aioice_ice.get_host_addresses = lambda use_ipv4, use_ipv6: [args.bind]

    async def bounded() -> int:
        body = publish(args) if args.mode == "publish" else watch(args)
        return await asyncio.wait_for(body, timeout=args.timeout + args.duration + 30)

    try:
        status = asyncio.run(bounded())
    except asyncio.TimeoutError:
        log.error("timed out")
        status = 2
    except (HttpError, RuntimeError, OSError, MediaStreamError) as error:
        log.error("%s", error)
        status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
