// The page side of Interop/firefox_dc_peer.py, loaded after Interop/chromium_dc_peer.js (which
// holds the RTCPeerConnection and its data channel: window.peer). This part replaces WebDriver:
// it asks the Python program's HTTP server (same origin, 127.0.0.1) for its role and options
// (GET /config), long-polls GET /in for the remote peer's lines and POSTs what the page has to
// say to /out every 50 ms while something changed (the lines, the log, the message counter), and
// once a second anyway (the transport's counters, for the progress line on stderr). On
// {close: true} from /in it POSTs the close-time summary (page counters + getStats), closes the
// connection and POSTs {done: true}.
(() => {
  const post = (body) => fetch('/out', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                        body: JSON.stringify(body)});
  // chromium_dc_peer.js finds the selected pair through the `transport` stats, which Firefox does
  // not have; Firefox marks the pair itself (`selected`, non-standard) or it is the nominated one
  // that succeeded.
  async function pair() {
    const r = await pcStats();
    if (!r) return null;
    const byId = {};
    let p = null;
    r.forEach((x) => { byId[x.id] = x; });
    r.forEach((x) => {
      if (x.type === 'candidate-pair' && (x.selected || (x.nominated && x.state === 'succeeded')) && !p) p = x;
    });
    if (!p) return null;
    const l = byId[p.localCandidateId], rm = byId[p.remoteCandidateId];
    return {local: l && l.candidateType, remote: rm && rm.candidateType,
            localAddress: l && `${l.address}:${l.port}`, remoteAddress: rm && `${rm.address}:${rm.port}`};
  }
  let pcRef = null;
  const Orig = window.RTCPeerConnection;
  // keep a handle on the one connection chromium_dc_peer.js makes, for the stats above
  window.RTCPeerConnection = function (...args) { pcRef = new Orig(...args); return pcRef; };
  window.RTCPeerConnection.prototype = Orig.prototype;
  async function pcStats() {
    if (!pcRef || pcRef.connectionState === 'closed') return null;
    return pcRef.getStats();
  }
  async function wire() {
    const r = await pcStats();
    if (!r) return null;
    const w = {pktSent: 0, pktRecv: 0, bytesSent: 0, bytesRecv: 0};
    r.forEach((x) => {
      if (x.type === 'candidate-pair' && (x.selected || x.nominated)) {
        w.pktSent = x.packetsSent ?? w.pktSent; w.pktRecv = x.packetsReceived ?? w.pktRecv;
        w.bytesSent = x.bytesSent ?? w.bytesSent; w.bytesRecv = x.bytesReceived ?? w.bytesRecv;
      }
    });
    return w;
  }

  async function outLoop() {
    let lastGot = -1, lastSecond = 0, pairDone = false;
    for (;;) {
      try {
        const t = window.peer.take();
        const body = {out: t.out, log: t.log, got: t.got, gotBytes: t.gotBytes, sent: t.sent, buffered: t.buffered};
        const now = Date.now();
        if (!pairDone) {
          const p = await pair();
          if (p && p.local) { body.pair = p; pairDone = true; }
        }
        if (now - lastSecond >= 1000) { lastSecond = now; body.wire = await wire(); }
        if (t.out.length || t.log.length || t.got !== lastGot || body.pair || body.wire) {
          lastGot = t.got;
          await post(body);
        }
      } catch (e) {
        try { await post({out: [], log: [`driver out loop: ${e}`]}); } catch (_) { /* the server is gone */ }
      }
      if (window.closing) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function inLoop() {
    for (;;) {
      let m;
      try {
        m = await (await fetch('/in', {cache: 'no-store'})).json();
      } catch (e) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (m.lines && m.lines.length) window.peer.input(m.lines);
      if (m.close) break;
    }
    // close: the totals and the stats (before pc.close() drops them), then the connection
    window.closing = true;
    let summary = null;
    try { summary = await window.peer.summary(); } catch (e) { summary = {error: String(e)}; }
    let t = window.peer.take();
    await post({out: t.out, log: t.log, got: t.got, gotBytes: t.gotBytes, sent: t.sent, buffered: t.buffered, summary});
    window.peer.close();
    await new Promise((r) => setTimeout(r, 100));
    t = window.peer.take();
    await post({out: t.out, log: t.log, got: t.got, gotBytes: t.gotBytes, sent: t.sent, buffered: t.buffered, done: true});
  }

  async function main() {
    const cfg = await (await fetch('/config', {cache: 'no-store'})).json();
    await post({out: [], log: [`page up: ${navigator.userAgent}`]});
    window.peer.start(cfg.role, cfg.opts);
    outLoop();
    inLoop();
  }
  main().catch((e) => post({out: [], log: [`driver failed: ${e && e.stack || e}`], fatal: String(e)}));
})();
