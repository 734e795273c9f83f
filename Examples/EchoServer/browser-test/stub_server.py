#!/usr/bin/env python3
"""A stand-in for the Swift EchoServer: serves Public/ at / and the signalling of
docs/echo-signalling.md at /signal, answering with aiortc. Only for developing the page and the
test without the Swift server (aiortc does not do ICE restarts as NiceICE does; check 3 may fail
against it).

    stub_server.py --host 10.79.0.1 --port 8080 --public-dir ../Public
"""
import argparse
import asyncio
import json
import logging
import mimetypes
import os
import signal
import time
from http import HTTPStatus

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp
from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.http11 import Response

sessions = set()


class Session:
    def __init__(self, ws, ice_address):
        self.ws = ws
        self.t0 = time.monotonic()
        self.pc = None
        self.ice_address = ice_address
        self.last_pair = None

    def t(self):
        return int((time.monotonic() - self.t0) * 1000)

    async def send(self, msg):
        try:
            await self.ws.send(json.dumps(msg))
        except Exception:
            pass

    def state(self, layer, state, **extra):
        msg = {"type": "state", "layer": layer, "state": state, "t": self.t()}
        msg.update(extra)
        asyncio.ensure_future(self.send(msg))

    def report_pair(self):
        try:
            ice = self.pc.sctp.transport.transport
            conn = ice._connection
            pair = conn._nominated.get(1)
            if pair is None:
                return
            lc, rc = pair.local_candidate, pair.remote_candidate
            key = (lc.host, lc.port, rc.host, rc.port)
            if key == self.last_pair:
                return
            self.last_pair = key
            asyncio.ensure_future(self.send({
                "type": "pair", "local": lc.type, "remote": rc.type,
                "localAddress": f"{lc.host}:{lc.port}", "remoteAddress": f"{rc.host}:{rc.port}", "t": self.t()}))
        except Exception as e:  # best effort
            logging.debug("pair: %s", e)

    def make_pc(self):
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc = pc

        @pc.on("iceconnectionstatechange")
        def _ice():
            self.state("ice", pc.iceConnectionState)
            if pc.iceConnectionState in ("connected", "completed"):
                self.report_pair()

        @pc.on("connectionstatechange")
        def _conn():
            self.state("connection", pc.connectionState)
            if pc.connectionState == "connected":
                self.report_pair()
                self.state("dtls", "connected")
                self.state("sctp", "connected")

        @pc.on("datachannel")
        def _dc(channel):
            self.state("channel", "open", label=channel.label, id=channel.id)

            @channel.on("message")
            def _msg(m):
                channel.send(m)

            @channel.on("close")
            def _close():
                self.state("channel", "closed", label=channel.label, id=channel.id)

        self.state("ice", "new")
        self.state("connection", "new")
        return pc

    async def on_offer(self, sdp):
        if self.pc is None:
            self.make_pc()
        pc = self.pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        answer = await pc.createAnswer()
        await pc.setLocalDescription(answer)
        # aiortc gathers before answering: keep only the candidates on our ICE address, trickle them.
        lines = pc.localDescription.sdp.splitlines()
        cands = [l[2:] for l in lines if l.startswith("a=candidate:")]
        kept = [c for c in cands if self.ice_address is None or f" {self.ice_address} " in c]
        body = [l for l in lines if not l.startswith("a=candidate:") and l != "a=end-of-candidates"]
        await self.send({"type": "answer", "sdp": "\r\n".join(body) + "\r\n"})
        for c in kept:
            await self.send({"type": "candidate", "candidate": c, "sdpMid": "0", "sdpMLineIndex": 0})
        await self.send({"type": "end-of-candidates"})

    async def on_candidate(self, msg):
        line = msg.get("candidate", "")
        if line.startswith("candidate:"):
            line = line[len("candidate:"):]
        if not line or ".local " in line:
            return
        if self.ice_address and self.ice_address.startswith("127.") and " 127." not in line:
            return  # loopback mode: talk to the page's loopback candidates only
        c = candidate_from_sdp(line)
        c.sdpMid = msg.get("sdpMid", "0")
        c.sdpMLineIndex = msg.get("sdpMLineIndex", 0)
        if self.pc is not None:
            await self.pc.addIceCandidate(c)

    async def close(self):
        if self.pc is not None:
            await self.pc.close()


async def handler(ws, ice_address):
    s = Session(ws, ice_address)
    sessions.add(s)
    try:
        async for text in ws:
            try:
                msg = json.loads(text)
            except ValueError:
                await s.send({"type": "error", "field": "json", "reason": "malformed JSON"})
                continue
            kind = msg.get("type")
            try:
                if kind == "offer":
                    await s.on_offer(msg["sdp"])
                elif kind == "candidate":
                    await s.on_candidate(msg)
                elif kind == "end-of-candidates":
                    pass
                elif kind == "bye":
                    break
                else:
                    await s.send({"type": "error", "field": "type", "reason": f"unknown type {kind}"})
            except Exception as e:
                await s.send({"type": "error", "field": kind or "?", "reason": str(e)})
    except Exception:
        pass
    finally:
        sessions.discard(s)
        await s.close()


def static_handler(public_dir):
    def process_request(connection, request):
        path = request.path.split("?", 1)[0]
        if path == "/signal":
            return None
        if path == "/":
            path = "/index.html"
        full = os.path.realpath(os.path.join(public_dir, path.lstrip("/")))
        if not full.startswith(os.path.realpath(public_dir)) or not os.path.isfile(full):
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        with open(full, "rb") as f:
            body = f.read()
        ctype = mimetypes.guess_type(full)[0] or "application/octet-stream"
        headers = Headers([("Content-Type", ctype), ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
        return Response(200, "OK", headers, body)
    return process_request


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--ice-address", default=None)
    ap.add_argument("--public-dir", default=os.path.join(os.path.dirname(__file__), "..", "Public"))
    a = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, stop.set_result, None)
    async with serve(lambda ws: handler(ws, a.ice_address or a.host), a.host, a.port,
                     process_request=static_handler(a.public_dir), max_size=65536) as server:
        print(f"stub echo server on http://{a.host}:{a.port}/", flush=True)
        await stop
        for s in list(sessions):
            await s.send({"type": "bye", "reason": "shutdown"})
            await s.ws.close(1001, "going away")
            await s.close()
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
