#!/usr/bin/env python3
"""A WebRTC-JSONL data-channel peer (shared/docs/webrtc-jsonl.md) that is headless Firefox.

    firefox_dc_peer.py (--offer | --answer) [--count N] [--size BYTES] [--text] [--label L]
                       [--unordered] [--max-retransmits N] [--bind ADDR] [--name NAME]
                       [--loopback] [--no-mdns] [--stats-out FILE] [--firefox PATH]
                       [--firefox-log FILE] [--pref NAME=JSON]…

No WebDriver (Debian 12 has no geckodriver): this program serves one page on a free port of
127.0.0.1 in the current network namespace and starts `firefox-esr --headless --no-remote
--profile TMP http://127.0.0.1:PORT/` on it, with a fresh profile whose user.js turns off
everything that would reach the internet (telemetry, updates, captive portal, connectivity
checks, safe browsing, remote settings, prefetch/speculative connections, DoH, push, GMP/OpenH264
downloads, …). The page runs Interop/browser_peer_signaling.js and Interop/chromium_dc_peer.js
(one RTCPeerConnection with one data channel, WebRTC defaults: no ICE servers, mDNS host
candidates) and Interop/firefox_dc_peer.js, which long-polls GET /in for the remote peer's lines
and POSTs the page's lines (sdp, cand, eoc, state), its log and its message counter to /out.
This program forwards stdin to /in and /out to stdout, writing `got` from the page's counter (at
most every 100 ms while it changes, and at close) and `pair` once the page sees a selected pair.

Firefox gathers host candidates only on the interface of its default route when the page has no
camera/microphone permission, so run it in a network namespace that has one (to a peer
namespace that forwards nothing; see scripts/dc-firefox-interop.sh), or use --loopback for runs
on 127.0.0.1 without namespaces (media.peerconnection.ice.loopback on, mDNS off). --no-mdns
turns mDNS host-name obfuscation off (plain addresses in candidates). --bind is accepted for
compatibility and ignored. --pref NAME=JSON adds a user.js line (e.g.
--pref 'media.peerconnection.dtls.version.max=771').

--stats-out FILE writes, at close, the page counters and Firefox's getStats (the same summary
goes to stderr as one `stats {…}` line). A `progress` line on stderr every second says
got/sent/buffered and the selected pair's packet and byte counters. --firefox-log FILE keeps
Firefox's own stdout/stderr (default: discarded with the profile).

Standard library only.
"""

import argparse
import http.server
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from browser_driver import STARTED, log, read_jsonl  # noqa: E402

# A fresh profile that talks to nothing but the page's server. Values are JSON (user.js syntax).
PREFS = {
    # first run, default browser, welcome pages, new-tab content
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "browser.aboutwelcome.enabled": False,
    "browser.newtabpage.enabled": False,
    "browser.newtabpage.activity-stream.feeds.system.topstories": False,
    "browser.newtabpage.activity-stream.feeds.section.topstories": False,
    "browser.newtabpage.activity-stream.feeds.snippets": False,
    "browser.newtabpage.activity-stream.telemetry": False,
    "browser.newtabpage.activity-stream.feeds.telemetry": False,
    "browser.topsites.contile.enabled": False,
    "startup.homepage_welcome_url": "",
    "startup.homepage_welcome_url.additional": "",
    "browser.tabs.warnOnClose": False,
    "browser.sessionstore.resume_from_crash": False,
    "toolkit.startup.max_resumed_crashes": -1,
    # telemetry and data reporting
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "toolkit.telemetry.archive.enabled": False,
    "toolkit.telemetry.server": "",
    "toolkit.telemetry.updatePing.enabled": False,
    "toolkit.telemetry.shutdownPingSender.enabled": False,
    "toolkit.telemetry.firstShutdownPing.enabled": False,
    "toolkit.telemetry.newProfilePing.enabled": False,
    "toolkit.telemetry.bhrPing.enabled": False,
    "toolkit.coverage.endpoint.base": "",
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.usage.uploadEnabled": False,
    "browser.ping-centre.telemetry": False,
    "app.normandy.enabled": False,
    "app.normandy.api_url": "",
    "app.shield.optoutstudies.enabled": False,
    "browser.crashReports.unsubmittedCheck.autoSubmit2": False,
    "breakpad.reportURL": "",
    "browser.tabs.crashReporting.sendReport": False,
    # updates: application, add-ons, system add-ons, search engines, GMP (OpenH264, Widevine)
    "app.update.enabled": False,
    "app.update.auto": False,
    "app.update.disabledForTesting": True,
    "app.update.url": "",
    "extensions.update.enabled": False,
    "extensions.update.autoUpdateDefault": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.blocklist.enabled": False,
    "extensions.systemAddon.update.enabled": False,
    "extensions.systemAddon.update.url": "",
    "extensions.webservice.discoverURL": "",
    "extensions.recommendations.hideNotice": True,
    "extensions.htmlaboutaddons.recommendations.enabled": False,
    "browser.search.update": False,
    "browser.search.geoip.url": "",
    "browser.region.network.url": "",
    "browser.region.update.enabled": False,
    "geo.provider.network.url": "",
    "geo.enabled": False,
    "media.gmp-manager.url": "",
    "media.gmp-manager.updateEnabled": False,
    "media.gmp-gmpopenh264.enabled": False,
    "media.gmp-gmpopenh264.autoupdate": False,
    "media.gmp-widevinecdm.enabled": False,
    "media.gmp-widevinecdm.autoupdate": False,
    "media.eme.enabled": False,
    "services.settings.server": "http://127.0.0.1:9/",  # remote settings: a closed local port
    "services.sync.enabled": False,
    "identity.fxaccounts.enabled": False,
    "browser.translations.enable": False,
    "browser.ml.enable": False,
    "browser.ml.chat.enabled": False,
    "browser.discovery.enabled": False,
    "browser.contentblocking.report.lockwise.enabled": False,
    "browser.contentblocking.report.monitor.enabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
    "nimbus.remoteSettings.enabled": False,
    # captive portal, connectivity checks, safe browsing, certificate checks, push
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "captivedetect.canonicalURL": "",
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.downloads.remote.enabled": False,
    "browser.safebrowsing.passwords.enabled": False,
    "browser.safebrowsing.provider.google.updateURL": "",
    "browser.safebrowsing.provider.google4.updateURL": "",
    "browser.safebrowsing.provider.mozilla.updateURL": "",
    "browser.safebrowsing.update.enabled": False,
    "security.OCSP.enabled": 0,
    "security.remote_settings.crlite_filters.enabled": False,
    "security.remote_settings.intermediates.enabled": False,
    "security.certerrors.mitm.priming.enabled": False,
    "dom.push.enabled": False,
    "dom.push.connection.enabled": False,
    "dom.push.serverURL": "",
    # prefetch, speculative connections, DNS over HTTPS, proxies
    "network.prefetch-next": False,
    "network.dns.disablePrefetch": True,
    "network.dns.disablePrefetchFromHTTPS": True,
    "network.predictor.enabled": False,
    "network.predictor.enable-prefetch": False,
    "network.http.speculative-parallel-limit": 0,
    "browser.urlbar.speculativeConnect.enabled": False,
    "browser.places.speculativeConnect.enabled": False,
    "browser.urlbar.suggest.searches": False,
    "browser.search.suggest.enabled": False,
    "network.trr.mode": 5,
    "network.proxy.type": 0,
    "network.dns.native_https_query": False,
    # the page: no throttling of a headless, unfocused tab's timers
    "dom.min_background_timeout_value": 4,
    "dom.timeout.enable_budget_timer_throttling": False,
    "browser.tabs.remote.separateFileUriProcess": False,
}


_write_lock = threading.Lock()


def write(obj):
    with _write_lock:
        sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
        sys.stdout.flush()


def user_js(prefs):
    return "".join(f'user_pref("{k}", {json.dumps(v)});\n' for k, v in prefs.items())


class Page:
    """What the server and the main thread share."""

    def __init__(self, role, opts):
        self.config = {"role": role, "opts": opts}
        self.inbox = queue.Queue()       # remote lines for the page
        self.closing = threading.Event()  # stdin said close (or EOF): the page is told via /in
        self.done = threading.Event()     # the page closed its connection
        self.up = threading.Event()       # the page asked for its config
        self.lock = threading.Lock()
        self.got = (0, 0)
        self.reported = (0, 0)
        self.last_got_write = 0.0
        self.pair_done = False
        self.summary = None
        self.fatal = None

    def report_got(self, final=False):
        with self.lock:
            t = time.monotonic()
            if self.got != self.reported and (final or t - self.last_got_write >= 0.1):
                write({"t": "got", "n": self.got[0], "bytes": self.got[1]})
                self.reported, self.last_got_write = self.got, t

    def take(self, body):
        for line in body.get("log") or []:
            log(f"page: {line}")
        for m in body.get("out") or []:
            if m.get("t") == "state":
                m["ms"] = int(m["ms"] - STARTED * 1000)
            write(m)
        if "got" in body:
            with self.lock:
                self.got = (body["got"], body["gotBytes"])
        self.report_got(final=bool(body.get("summary") or body.get("done")))
        p = body.get("pair")
        if p and not self.pair_done:
            self.pair_done = True
            write({"t": "pair", "local": p["local"], "remote": p["remote"]})
            log(f"selected pair {p}")
        w = body.get("wire")
        if w is not None:
            log(f"progress got {body.get('got')} ({body.get('gotBytes')} B), sent {body.get('sent')}, "
                f"bufferedAmount {body.get('buffered')}; pair packets sent {w.get('pktSent')} received "
                f"{w.get('pktRecv')}, bytes sent {w.get('bytesSent')} received {w.get('bytesRecv')}")
        if "summary" in body:
            self.summary = body["summary"]
        if body.get("fatal"):
            self.fatal = body["fatal"]
        if body.get("done"):
            self.done.set()


def make_handler(page, files):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def reply(self, code, ctype, data):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in files:
                ctype, data = files[path]
                self.reply(200, ctype, data)
            elif path == "/config":
                page.up.set()
                self.reply(200, "application/json", json.dumps(page.config).encode())
            elif path == "/in":
                # long poll: up to 1 s for the first line, then whatever else is queued
                lines = []
                deadline = time.monotonic() + 1.0
                while not lines and not page.closing.is_set() and time.monotonic() < deadline:
                    try:
                        lines.append(page.inbox.get(timeout=0.05))
                    except queue.Empty:
                        pass
                while True:
                    try:
                        lines.append(page.inbox.get_nowait())
                    except queue.Empty:
                        break
                close = page.closing.is_set() and page.inbox.empty()
                self.reply(200, "application/json", json.dumps({"lines": lines, "close": close}).encode())
            else:
                self.reply(404, "text/plain", b"not found\n")

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n)
            if self.path != "/out":
                self.reply(404, "text/plain", b"not found\n")
                return
            try:
                page.take(json.loads(body))
            except (ValueError, KeyError, TypeError) as e:
                log(f"/out: bad body ({e}): {body[:200]!r}")
            self.reply(200, "application/json", b"{}")

    return Handler


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
    ap.add_argument("--bind", help="ignored: Firefox gathers on its namespace's default-route interface")
    ap.add_argument("--name", default="firefox")
    ap.add_argument("--stun"), ap.add_argument("--turn"), ap.add_argument("--turn-user"), ap.add_argument("--turn-pass")
    ap.add_argument("--relay-only", action="store_true")
    ap.add_argument("--loopback", action="store_true", help="ICE on loopback, mDNS off (runs without namespaces)")
    ap.add_argument("--no-mdns", action="store_true", help="plain host addresses in candidates")
    ap.add_argument("--pref", action="append", default=[], metavar="NAME=JSON", help="an extra user.js pref")
    ap.add_argument("--stats-out", help="write the close-time summary (page counters + getStats) here")
    ap.add_argument("--firefox-log", help="Firefox's stdout/stderr go here")
    ap.add_argument("--firefox", default=shutil.which("firefox-esr") or shutil.which("firefox") or "/usr/bin/firefox-esr")
    ap.add_argument("--start-timeout", type=float, default=45, help="seconds for the page to come up")
    a = ap.parse_args()
    if a.stun or a.turn or a.relay_only:
        log("STUN/TURN options are not supported by this peer; ignored")

    prefs = dict(PREFS)
    if a.loopback:
        # loopback only: no other interface of the host (its addresses are not ours to use)
        prefs["media.peerconnection.ice.loopback"] = True
        prefs["media.peerconnection.ice.force_interface"] = "lo"
    if a.loopback or a.no_mdns:
        prefs["media.peerconnection.ice.obfuscate_host_addresses"] = False
    for p in a.pref:
        k, _, v = p.partition("=")
        prefs[k] = json.loads(v)

    tmp = tempfile.mkdtemp(prefix="firefox-dc-peer-")
    profile = os.path.join(tmp, "profile")
    os.makedirs(profile)
    with open(os.path.join(profile, "user.js"), "w") as f:
        f.write(user_js(prefs))

    opts = {"count": a.count, "size": a.size, "text": a.text, "label": a.label,
            "unordered": a.unordered, "maxRetransmits": a.max_retransmits}
    page = Page("offer" if a.offer else "answer", opts)
    with open(os.path.join(HERE, "browser_peer_signaling.js"), "rb") as f:
        signaling_js = f.read()
    with open(os.path.join(HERE, "chromium_dc_peer.js"), "rb") as f:
        peer_js = f.read()
    with open(os.path.join(HERE, "firefox_dc_peer.js"), "rb") as f:
        driver_js = f.read()
    html = (b"<!doctype html><meta charset=utf-8><title>firefox_dc_peer</title>"
            b"<script src=/signaling.js></script><script src=/peer.js></script><script src=/driver.js></script>\n")
    files = {"/": ("text/html; charset=utf-8", html),
             "/signaling.js": ("text/javascript", signaling_js),
             "/peer.js": ("text/javascript", peer_js),
             "/driver.js": ("text/javascript", driver_js),
             "/favicon.ico": ("image/x-icon", b"")}
    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            e = sys.exc_info()[1]
            if not isinstance(e, (ConnectionError, BrokenPipeError)):  # Firefox dropping a long poll at exit is fine
                log(f"server: {type(e).__name__}: {e}")

    server = Server(("127.0.0.1", 0), make_handler(page, files))
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{port}/"

    def read_stdin():
        for m in read_jsonl():
            page.inbox.put(m)
        page.closing.set()  # close or EOF

    env = dict(os.environ)
    env.update({"HOME": tmp, "MOZ_HEADLESS": "1", "MOZ_CRASHREPORTER_DISABLE": "1",
                "MOZ_CRASHREPORTER": "0", "XDG_CONFIG_HOME": os.path.join(tmp, "config"),
                "XDG_CACHE_HOME": os.path.join(tmp, "cache"), "MOZ_DISABLE_AUTO_SAFE_MODE": "1"})
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    flog = open(a.firefox_log, "ab") if a.firefox_log else subprocess.DEVNULL
    ff = None
    rc = 0
    try:
        ff = subprocess.Popen([a.firefox, "--headless", "--no-remote", "--profile", profile, url],
                              stdout=flog, stderr=subprocess.STDOUT if a.firefox_log else subprocess.DEVNULL,
                              stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        version = subprocess.run([a.firefox, "--version"], capture_output=True, text=True, env=env,
                                 timeout=30).stdout.strip()
        log(f"{version} (pid {ff.pid}) headless on {url}, profile {profile} "
            f"({'loopback, mDNS off' if a.loopback else 'mDNS off' if a.no_mdns else 'WebRTC defaults, mDNS on'})")
        threading.Thread(target=read_stdin, daemon=True).start()
        deadline = time.monotonic() + a.start_timeout
        while not page.up.wait(0.2):
            if ff.poll() is not None:
                raise RuntimeError(f"Firefox exited ({ff.returncode}) before the page came up")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the page did not come up in {a.start_timeout:.0f} s")
        log(f"page up after {time.time() - STARTED:.1f} s")
        while not page.closing.wait(0.1):
            page.report_got()
            if page.fatal:
                raise RuntimeError(f"page: {page.fatal}")
            if ff.poll() is not None:
                raise RuntimeError(f"Firefox exited ({ff.returncode})")
        if not page.done.wait(10):
            log("the page did not confirm its close in 10 s")
        page.report_got(final=True)
        if page.summary is not None:
            log("stats " + json.dumps(page.summary, separators=(",", ":")))
            if a.stats_out:
                with open(a.stats_out, "w") as f:
                    json.dump(page.summary, f, indent=1)
    except Exception as e:
        log(f"error: {type(e).__name__}: {e}")
        rc = 1
    finally:
        # Firefox and its content processes: its own session, started here; ended by its pgid
        if ff is not None:
            try:
                os.killpg(ff.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                ff.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(ff.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                ff.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log(f"Firefox (pid {ff.pid}) did not exit")
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
        write({"t": "state", "k": "conn", "s": "closed", "ms": int(time.time() * 1000 - STARTED * 1000)})
    return rc


if __name__ == "__main__":
    sys.exit(main())
