#!/usr/bin/env python3
"""A Media-JSONL peer on aiortc's RTCPeerConnection (protocol: docs/media-jsonl.md, which
extends shared/docs/webrtc-jsonl.md; bridge: Interop/webrtc_bridge.py --media).

    aiortc_media_peer.py --offer|--answer [--send-video FILE.ivf] [--send-audio FILE.ogg]
                         [--receive-video] [--receive-audio] [--no-data] [--duration S]
                         [--pli-at S] [WebRTC-JSONL flags of aiortc_dc_peer.py]

The signalling, states, data channel and close are aiortc_dc_peer.py's (this subclasses its
Peer); what is added:
- Sending: aiortc.contrib.media.MediaPlayer reads the file (decoded by PyAV) and aiortc encodes
  it again (VP8 by libvpx, Opus by libopus) at the file's pace; --duration S (default 10) ends
  the track after S s of media (the file's own length at most: no looping). aiortc answers a PLI
  with a new keyframe and a NACK from its own history, as it does. `media` sent lines: `frames`
  handed to the encoder, `packets`/`bytes` from the sender's outbound-rtp stats.
- Receiving: every frame aiortc decodes is counted (`recv()` on the remote track): `frames`,
  and `decoded` (video: frames; audio: samples); `packets` and `lost` from inbound-rtp.
  `keyframes` counts the VP8 key frames reaching aiortc's decoder (its Vp8Decoder.decode is
  wrapped); aiortc reports no NACK or PLI counts and does not drop incomplete frames visibly, so
  `nacks`, `plis` and `incomplete` are left out.
- --pli-at S: S s after the first video frame, a PLI through aiortc's own (private)
  RTCRtpReceiver._send_rtcp_pli, and `pli` when the next key frame reaches the decoder.
- `media-done` once every sent track ended.
--record is not supported here (aiortc_dc_peer.py's flags and these only).
"""

import asyncio
import logging
import time

import aiortc_dc_peer as dc
from aiortc.codecs import vpx
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger("aiortc-media-peer")
REPORT_INTERVAL = 1.0
KINDS = ("video", "audio")


class KeyframeWatch:
    """Wraps aiortc's VP8 decoder (it runs on a decoder thread) to see key frames arrive."""

    listeners: list = []  # (loop, callback)

    @classmethod
    def install(cls) -> None:
        original = vpx.Vp8Decoder.decode

        def decode(self, encoded_frame):
            data = encoded_frame.data
            if data and data[0] & 1 == 0:  # RFC 6386 §9.1: P bit clear, a key frame
                for loop, callback in cls.listeners:
                    loop.call_soon_threadsafe(callback)
            return original(self, encoded_frame)

        vpx.Vp8Decoder.decode = decode


class CountedTrack(MediaStreamTrack):
    """Passes a player's frames on, counting them, until --duration of media."""

    def __init__(self, source: MediaStreamTrack, limit: float) -> None:
        super().__init__()
        self.kind = source.kind
        self.source = source
        self.limit = limit
        self.frames = 0
        self.ended = asyncio.Event()

    async def recv(self):
        try:
            frame = await self.source.recv()
        except MediaStreamError:
            self.ended.set()
            raise
        if frame.pts is not None and frame.time_base is not None and float(frame.pts * frame.time_base) >= self.limit:
            self.ended.set()
            self.stop()
            raise MediaStreamError
        self.frames += 1
        return frame

    def stop(self) -> None:
        super().stop()
        self.source.stop()  # the player's thread ends with its last track


class MediaPeer(dc.Peer):
    def __init__(self, args) -> None:
        super().__init__(args)
        self.players = []
        self.sending = {}  # kind -> (CountedTrack, RTCRtpSender)
        self.incoming = {}  # kind -> {"frames", "samples", "keyframes", "receiver"}
        self.pli_sent_ms = None
        self.reporter = None
        self.done_written = False
        self.pc.on("track", self.on_track)
        for kind, path in (("video", args.send_video), ("audio", args.send_audio)):
            if path:
                player = MediaPlayer(path)
                source = player.video if kind == "video" else player.audio
                if source is None:
                    raise SystemExit(f"{path} has no {kind}")
                self.players.append(player)
                self.sending[kind] = [CountedTrack(source, args.duration), None]

    # --- negotiation hooks -------------------------------------------------------------------

    def prepare_offer(self) -> None:
        for kind in KINDS:
            receive = getattr(self.args, f"receive_{kind}")
            if kind in self.sending:
                sender = self.pc.addTrack(self.sending[kind][0])
                self.sending[kind][1] = sender
                if not receive:
                    next(t for t in self.pc.getTransceivers() if t.sender is sender).direction = "sendonly"
            elif receive:
                self.pc.addTransceiver(kind, direction="recvonly")
        if not self.args.no_data:
            super().prepare_offer()
        self.start_media()

    def prepare_answer(self) -> None:
        if self.reporter is not None:
            return
        for kind, entry in self.sending.items():
            if any(t.kind == kind for t in self.pc.getTransceivers()):
                entry[1] = self.pc.addTrack(entry[0])
            else:
                log.warning("the offer has no %s section: not sending %s", kind, kind)
        for t in self.pc.getTransceivers():
            if not getattr(self.args, f"receive_{t.kind}"):
                t.direction = "sendonly" if t.sender.track is not None else "inactive"
        self.start_media()

    def start_media(self) -> None:
        KeyframeWatch.listeners.append((asyncio.get_running_loop(), self.keyframe_arrived))
        self.reporter = asyncio.create_task(self.report_loop())
        self.tasks.append(asyncio.create_task(self.wait_sent()))

    # --- sending -----------------------------------------------------------------------------

    async def wait_sent(self) -> None:
        tracks = [entry[0] for entry in self.sending.values()]
        if not tracks:
            return
        await asyncio.gather(*(t.ended.wait() for t in tracks))
        await self.report(final=True)
        self.done_written = True
        dc.emit("media-done")

    async def sent_line(self, kind: str) -> None:
        track, sender = self.sending[kind]
        packets = nbytes = 0
        if sender is not None:
            for stats in (await sender.getStats()).values():
                if stats.type == "outbound-rtp":
                    packets, nbytes = stats.packetsSent, stats.bytesSent
        dc.emit("media", dir="sent", kind=kind, frames=track.frames, packets=packets, bytes=nbytes)

    # --- receiving ---------------------------------------------------------------------------

    def on_track(self, track) -> None:
        kind = track.kind
        if not getattr(self.args, f"receive_{kind}") or kind in self.incoming:
            log.info("not counting the peer's %s track %s", kind, track.id)
            return
        receiver = next((t.receiver for t in self.pc.getTransceivers() if t.receiver.track is track), None)
        entry = {"frames": 0, "samples": 0, "keyframes": 0, "receiver": receiver, "first": None}
        self.incoming[kind] = entry
        log.info("peer's %s track %s", kind, track.id)
        self.tasks.append(asyncio.create_task(self.count(track, entry)))

    async def count(self, track, entry) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            entry["frames"] += 1
            if track.kind == "audio":
                entry["samples"] += frame.samples
            elif entry["first"] is None:
                entry["first"] = time.monotonic()
                if self.args.pli_at is not None:
                    self.tasks.append(asyncio.create_task(self.pli_later(entry)))

    async def pli_later(self, entry) -> None:
        await asyncio.sleep(self.args.pli_at)
        receiver = entry["receiver"]
        sources = receiver.getSynchronizationSources() if receiver else []
        if not sources:
            log.warning("--pli-at: no source to ask a keyframe of")
            return
        self.pli_sent_ms = dc.ms()
        log.info("--pli-at: PLI for ssrc %d", sources[0].source)
        await receiver._send_rtcp_pli(sources[0].source)  # private: aiortc has no API for it

    def keyframe_arrived(self) -> None:
        entry = self.incoming.get("video")
        if entry is None:
            return
        entry["keyframes"] += 1
        if self.pli_sent_ms is not None:
            dc.emit("pli", sent_ms=self.pli_sent_ms, keyframe_ms=dc.ms())
            self.pli_sent_ms = None

    async def recv_line(self, kind: str) -> None:
        entry = self.incoming.get(kind) or {"frames": 0, "samples": 0, "keyframes": 0, "receiver": None}
        packets = lost = 0
        if entry["receiver"] is not None:
            for stats in (await entry["receiver"].getStats()).values():
                if stats.type == "inbound-rtp":
                    packets, lost = stats.packetsReceived, stats.packetsLost
        decoded = entry["frames"] if kind == "video" else entry["samples"]
        dc.emit("media", dir="recv", kind=kind, frames=entry["frames"], keyframes=entry["keyframes"],
                packets=packets, lost=lost, decoded=decoded)

    # --- reporting and close -----------------------------------------------------------------

    async def report(self, final: bool = False) -> None:
        for kind in KINDS:
            if kind in self.sending and (final or not self.sending[kind][0].ended.is_set()):
                await self.sent_line(kind)
            if getattr(self.args, f"receive_{kind}") and not final:
                await self.recv_line(kind)

    async def report_loop(self) -> None:
        while True:
            await asyncio.sleep(REPORT_INTERVAL)
            await self.report()

    async def finish(self) -> None:
        if self.reporter is not None:
            self.reporter.cancel()
        for kind in KINDS:
            if kind in self.sending and not self.done_written:
                await self.sent_line(kind)
            if getattr(self.args, f"receive_{kind}"):
                await self.recv_line(kind)
        for entry in self.sending.values():
            entry[0].stop()


def main() -> None:
    p = dc.parser("Media-JSONL peer on aiortc")
    p.add_argument("--send-video", metavar="FILE.ivf")
    p.add_argument("--send-audio", metavar="FILE.ogg")
    p.add_argument("--receive-video", action="store_true")
    p.add_argument("--receive-audio", action="store_true")
    p.add_argument("--no-data", action="store_true", help="no data channel (media only)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of media sent (default 10)")
    p.add_argument("--pli-at", type=float, help="ask for a keyframe S s after the first video frame")
    KeyframeWatch.install()
    dc.main(MediaPeer, p)


if __name__ == "__main__":
    main()
