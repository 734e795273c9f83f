"""What the browser drivers share (chromium_dc_peer.py, chromium_media_peer.py, firefox_dc_peer.py):
stderr and stdout lines, a minimal W3C WebDriver client over urllib, chromedriver's start and end
(it and whatever it left, by pid), Chromium's headless flags, the remote peer's JSONL from stdin,
and the per-tick input / selected-pair steps of the Chromium drivers' loops.

Standard library only.
"""

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
STARTED = time.time()


def log(msg):
    print(f"[{time.time() - STARTED:8.3f}] {msg}", file=sys.stderr, flush=True)


def write(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class WebDriver:
    """The few W3C WebDriver commands this program needs, over urllib."""

    def __init__(self, base):
        self.base = base
        self.session = None

    def call(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                v = json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"WebDriver {method} {path}: HTTP {e.code}: {e.read()[:500]!r}") from None
        return v.get("value")

    def start(self, binary, args):
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": binary, "args": args},
            "timeouts": {"script": 30000, "pageLoad": 15000},
        }}}
        v = self.call("POST", "/session", caps, timeout=60)
        self.session = v["sessionId"]
        return v.get("capabilities", {})

    def s(self, path):
        return f"/session/{self.session}{path}"

    def get(self, url):
        self.call("POST", self.s("/url"), {"url": url})

    def execute(self, script, *args):
        return self.call("POST", self.s("/execute/sync"), {"script": script, "args": list(args)})

    def execute_async(self, expr, *args, timeout=30):
        """Runs `expr` (an expression yielding a promise; args as arguments[0..]) and returns its value."""
        script = ("const done = arguments[arguments.length - 1];"
                  f"Promise.resolve().then(() => {expr}).then(done, (e) => done({{error: String(e && e.stack || e)}}));")
        return self.call("POST", self.s("/execute/async"), {"script": script, "args": list(args)}, timeout=timeout + 5)

    def quit(self):
        if self.session:
            try:
                self.call("DELETE", self.s(""), timeout=10)
            finally:
                self.session = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_status(base, deadline):
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/status", timeout=1) as r:
                if json.loads(r.read())["value"].get("ready"):
                    return True
        except Exception:
            pass
        time.sleep(0.05)
    return False


def descendants(pid):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def read_jsonl(stream=None):
    """Yields the remote peer's messages: each non-blank line that is JSON (others are logged and
    skipped), until `{"t":"close"}` (not yielded) or EOF."""
    for line in (sys.stdin if stream is None else stream):
        line = line.strip()
        if not line:
            continue
        try:
            m = json.loads(line)
        except ValueError:
            log(f"stdin: not JSON: {line[:200]!r}")
            continue
        if m.get("t") == "close":
            return
        yield m


def start_chromedriver(chromedriver, tmp, env=None):
    """chromedriver on a free 127.0.0.1 port (its log in tmp/chromedriver.log); returns (process, base URL)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    dlog = open(os.path.join(tmp, "chromedriver.log"), "ab")
    proc = subprocess.Popen(
        [chromedriver, f"--port={port}", "--allowed-ips=127.0.0.1"],
        stdout=dlog, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    return proc, base


def chromium_flags(tmp, loopback, extra=()):
    """Headless Chromium's flags (a profile in tmp; then extra; --loopback: 127.0.0.1 allowed, mDNS off)."""
    flags = ["--headless=new", "--no-sandbox", f"--user-data-dir={os.path.join(tmp, 'profile')}",
             "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-default-apps", "--disable-extensions",
             # a hidden, unfocused headless page must not get its timers throttled
             "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
             "--disable-backgrounding-occluded-windows", "--no-proxy-server", *extra]
    if loopback:
        flags += ["--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns"]
    return flags


def install_page(drv, script):
    """Runs Interop/browser_peer_signaling.js, then Interop/<script>, in the current page."""
    for name in ("browser_peer_signaling.js", script):
        with open(os.path.join(HERE, name)) as f:
            drv.execute(f.read())


def drain(inbox):
    """Everything queued in inbox now, in order."""
    lines = []
    while True:
        try:
            lines.append(inbox.get_nowait())
        except queue.Empty:
            return lines


def feed_page(drv, inbox):
    """Hands the remote peer's queued lines to the page (window.peer.input)."""
    lines = drain(inbox)
    if lines:
        drv.execute("return window.peer.input(arguments[0]);", lines)


def report_pair(drv):
    """Asks the page for the selected candidate pair; once there is one, writes the `pair` line and returns True."""
    p = drv.execute_async("window.peer.pair()", timeout=5)
    if p and p.get("local"):
        write({"t": "pair", "local": p["local"], "remote": p["remote"]})
        log(f"selected pair {p}")
        return True
    return False


def page_line(m):
    """A page message for stdout: `state` times made relative to STARTED."""
    if m.get("t") == "state":
        m["ms"] = int(m["ms"] - STARTED * 1000)
    write(m)


def take_page(drv):
    """window.peer.take(): the page's log lines go to stderr, its messages to stdout (page_line);
    returns what it said (with its counters)."""
    r = drv.execute("return window.peer.take();")
    for line in r["log"]:
        log(f"page: {line}")
    for m in r["out"]:
        page_line(m)
    return r


def stop_chromedriver(drv, driver_proc):
    """Ends the WebDriver session, then chromedriver and whatever it left (Chromium and its helpers):
    ours, ended by pid."""
    try:
        drv.quit()
    except Exception as e:
        log(f"quit failed: {e}")
    left = descendants(driver_proc.pid)
    if driver_proc.poll() is None:
        driver_proc.terminate()
        try:
            driver_proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            driver_proc.kill()
            driver_proc.wait(timeout=3)
    for p in left:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def write_closed():
    write({"t": "state", "k": "conn", "s": "closed", "ms": int(time.time() * 1000 - STARTED * 1000)})
