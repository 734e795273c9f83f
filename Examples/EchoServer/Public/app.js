// NiceWebRTC echo page: offers data channels to the EchoServer over the JSON signalling of
// docs/echo-signalling.md, draws both sides' states as an SVG timeline, and exposes
// window.echoTest for the automated browser test (Examples/EchoServer/browser-test).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const enc = new TextEncoder();

  // ---- configuration from the query: ?stun=stun:h:p&turn=turn:h:p&user=u&pass=p (repeatable)
  function iceServersFromQuery() {
    const q = new URLSearchParams(location.search);
    const servers = [];
    for (const s of q.getAll('stun')) servers.push({ urls: s.startsWith('stun') ? s : 'stun:' + s });
    for (const t of q.getAll('turn')) {
      servers.push({ urls: t.startsWith('turn') ? t : 'turn:' + t,
                     username: q.get('user') || q.get('username') || '',
                     credential: q.get('pass') || q.get('credential') || '' });
    }
    return servers;
  }

  function sdpSummary(sdp) {
    if (!sdp) return '';
    const lines = sdp.split(/\r?\n/).filter(Boolean);
    const pick = lines.filter((l) => /^a=(ice-ufrag|setup|fingerprint|sctp-port)|^m=/.test(l))
      .map((l) => (l.length > 60 ? l.slice(0, 60) + '…' : l));
    return `${sdp.length} chars, ${lines.length} lines: ${pick.join(' | ')}`;
  }

  // ---- log panel (main session only; extra sessions log a line each at most)
  const logLines = [];
  function log(kind, text) {
    const t = (performance.now() / 1000).toFixed(3);
    logLines.push({ kind, text: `${t} ${text}` });
    const el = $('log');
    if (!el) return;
    const div = document.createElement('div');
    div.className = kind;
    div.textContent = `${t} ${text}`;
    el.appendChild(div);
    while (el.childNodes.length > 600) el.removeChild(el.firstChild);
    el.scrollTop = el.scrollHeight;
  }

  function describe(msg) {
    const m = Object.assign({}, msg);
    if (m.sdp) m.sdp = sdpSummary(m.sdp);
    let s = JSON.stringify(m);
    if (s.length > 300) s = s.slice(0, 300) + '…';
    return s;
  }

  // ---- payloads: index-tagged, deterministic, so an echo can be checked byte for byte
  function makePayload(i, size, kind, tag) {
    const asText = kind === 'text' || (kind === 'mixed' && i % 2 === 0);
    const head = `${tag}#${i}:`;
    if (asText) {
      const alphabet = 'abcdefghijklmnopqrstuvwxyzäöü€0123456789 ';
      const parts = [head];
      let bytes = enc.encode(head).length;
      let x = (i * 2654435761) >>> 0;
      while (bytes < size) {
        x = (x * 1103515245 + 12345) >>> 0;
        const ch = alphabet[x % alphabet.length], c = ch.charCodeAt(0);
        parts.push(ch);
        bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
      }
      return parts.join('');
    }
    const b = new Uint8Array(Math.max(size, 1));
    const h = enc.encode(head);
    b.set(h.subarray(0, Math.min(h.length, b.length)));
    let x = (i * 40503 + size) >>> 0;
    for (let k = h.length; k < b.length; k++) { x = (x * 1664525 + 1013904223) >>> 0; b[k] = x >>> 24; }
    return b;
  }

  function keyOf(data) {
    if (typeof data === 'string') return 's:' + data.slice(0, data.indexOf(':') + 1);
    const b = new Uint8Array(data);
    let end = b.indexOf(58); // ':'
    if (end < 0) end = Math.min(b.length, 24);
    return 'b:' + new TextDecoder().decode(b.subarray(0, end + 1));
  }

  function sameBytes(expected, got) {
    if (typeof expected === 'string') return typeof got === 'string' && got === expected;
    if (typeof got === 'string') return false;
    const g = new Uint8Array(got);
    if (g.length !== expected.length) return false;
    for (let k = 0; k < g.length; k++) if (g[k] !== expected[k]) return false;
    return true;
  }

  const ufragOf = (sdp) => { const m = /a=ice-ufrag:(\S+)/.exec(sdp || ''); return m ? m[1] : null; };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // ---- one session = one WebSocket = one RTCPeerConnection
  let sessionCounter = 0;

  class Session {
    constructor(opts = {}) {
      this.opts = opts;
      this.name = opts.name || `s${++sessionCounter}`;
      this.main = !!opts.main;
      this.t0 = performance.now();
      this.wsOpenT = null;
      this.lanes = new Map();        // key -> {side, name, points: [{t, state, reason}]}
      this.channels = new Map();     // label -> {dc, sent, echoed, bad, collector, serverState}
      this.server = { ice: null, connection: null, dtls: null, sctp: null, channels: {}, pair: null, bye: null, errors: [] };
      this.pagePair = null;
      this.wsClosed = null;
      this.pendingOut = [];
      this.remoteCandidates = [];
      this.remoteEoc = false;
      this.answerWaiters = [];
      this.offersSent = 0;
      this.ufrags = { offers: [], answers: [] };
      this.answersApplied = 0;
      this.closed = false;
      this.listeners = new Set();
    }

    now() { return performance.now() - this.t0; }

    lane(key, side, name) {
      let l = this.lanes.get(key);
      if (!l) { l = { key, side, name, points: [] }; this.lanes.set(key, l); }
      return l;
    }

    record(key, side, name, state, reason, t) {
      const l = this.lane(key, side, name);
      const last = l.points[l.points.length - 1];
      if (last && last.state === state && (reason || '') === (last.reason || '')) return;
      l.points.push({ t: t === undefined ? this.now() : t, state, reason: reason || '' });
      this.changed();
    }

    changed() { for (const f of this.listeners) f(this); }

    send(msg) {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify(msg));
        if (this.main) log('out', '→ ' + describe(msg));
      } else if (!this.ws || this.ws.readyState === WebSocket.CONNECTING) {
        this.pendingOut.push(msg);
      } else if (this.main) {
        log('err', '✗ not sent (WebSocket closed): ' + describe(msg));
      }
    }

    async connect() {
      const iceServers = this.opts.iceServers || iceServersFromQuery();
      const url = this.opts.url || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal`;
      this.ws = new WebSocket(url);
      this.record('page.ws', 'page', 'WebSocket', 'connecting');
      this.ws.onopen = () => {
        this.wsOpenT = this.now();
        this.record('page.ws', 'page', 'WebSocket', 'open');
        const q = this.pendingOut; this.pendingOut = [];
        for (const m of q) this.send(m);
      };
      this.ws.onclose = (e) => {
        this.wsClosed = { code: e.code, reason: e.reason, t: this.now() };
        this.record('page.ws', 'page', 'WebSocket', 'closed', `code ${e.code}${e.reason ? ' ' + e.reason : ''}`);
        if (this.main) log('note', `WebSocket closed: code ${e.code} ${e.reason || ''}`);
      };
      this.ws.onerror = () => { if (this.main) log('err', 'WebSocket error'); };
      this.ws.onmessage = (e) => this.onSignal(e.data);

      const pc = this.pc = new RTCPeerConnection({ iceServers });
      this.record('page.ice', 'page', 'iceConnectionState', pc.iceConnectionState);
      this.record('page.conn', 'page', 'connectionState', pc.connectionState);
      pc.oniceconnectionstatechange = () => this.record('page.ice', 'page', 'iceConnectionState', pc.iceConnectionState);
      pc.onconnectionstatechange = () => {
        this.record('page.conn', 'page', 'connectionState', pc.connectionState);
        if (pc.connectionState === 'connected') this.pollStats();
      };
      pc.onicegatheringstatechange = () => { if (this.main) log('note', `iceGatheringState ${pc.iceGatheringState}`); };
      pc.onicecandidate = (e) => {
        if (e.candidate && e.candidate.candidate) {
          this.send({ type: 'candidate', candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex, usernameFragment: e.candidate.usernameFragment });
        } else if (!e.candidate) {
          this.send({ type: 'end-of-candidates' });
        }
      };
      pc.onicecandidateerror = (e) => { if (this.main) log('err', `icecandidateerror ${e.url || ''} ${e.errorCode} ${e.errorText}`); };
      pc.onnegotiationneeded = () => this.negotiate();
      pc.ondatachannel = (e) => this.adopt(e.channel, {});

      const chans = this.opts.channels || [{ label: 'echo' }];
      for (const c of chans) this.openChannel(c.label, c);
      this.statsTimer = setInterval(() => this.pollStats(), 1000);
      return this;
    }

    async negotiate() {
      const pc = this.pc;
      if (!pc || pc.signalingState === 'closed') return;
      if (this.negotiating) { this.renegotiateAfter = true; return; }
      this.negotiating = true;
      try {
        do {
          this.renegotiateAfter = false;
          const offer = await pc.createOffer();
          await pc.setLocalDescription(offer);
          this.offersSent++;
          this.awaitingAnswer = true;
          this.ufrags.offers.push(ufragOf(pc.localDescription.sdp));
          this.send({ type: 'offer', sdp: pc.localDescription.sdp });
          await new Promise((resolve) => this.answerWaiters.push(resolve));
        } while (this.renegotiateAfter && pc.signalingState !== 'closed');
      } catch (err) {
        if (this.main) log('err', 'negotiation failed: ' + err);
      } finally {
        this.negotiating = false;
      }
    }

    async onSignal(text) {
      let msg;
      try { msg = JSON.parse(text); } catch (err) { if (this.main) log('err', '← unparsable: ' + String(text).slice(0, 100)); return; }
      if (this.main) log(msg.type === 'error' ? 'err' : 'in', '← ' + describe(msg));
      const pc = this.pc;
      const st = (t) => (typeof t === 'number' && this.wsOpenT !== null ? this.wsOpenT + t : this.now());
      switch (msg.type) {
        case 'answer':
          try {
            await pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
            this.answersApplied++;
            this.ufrags.answers.push(ufragOf(msg.sdp));
          } catch (err) {
            if (this.main) log('err', 'setRemoteDescription(answer) failed: ' + err);
          }
          this.awaitingAnswer = false;
          while (this.remoteCandidates.length) await this.addRemote(this.remoteCandidates.shift());
          { const w = this.answerWaiters; this.answerWaiters = []; for (const f of w) f(); }
          break;
        case 'candidate':
        case 'end-of-candidates':
          if (!pc.remoteDescription || this.awaitingAnswer || this.remoteCandidates.length) this.remoteCandidates.push(msg);
          else await this.addRemote(msg);
          break;
        case 'state': {
          const layer = msg.layer;
          if (layer === 'channel') {
            const label = msg.label || `#${msg.id}`;
            this.server.channels[label] = msg.state;
            const ch = this.channels.get(label); if (ch) ch.serverState = msg.state;
            this.record(`server.ch.${label}`, 'server', `channel ${label}`, msg.state, msg.reason, st(msg.t));
          } else {
            this.server[layer] = msg.state;
            this.record(`server.${layer}`, 'server', layer, msg.state, msg.reason, st(msg.t));
          }
          break;
        }
        case 'pair':
          this.server.pair = msg;
          this.record('server.pair', 'server', 'selected pair', `${msg.local}→${msg.remote}`, `${msg.localAddress} ↔ ${msg.remoteAddress}`, st(msg.t));
          break;
        case 'error':
          this.server.errors.push(msg);
          break;
        case 'bye':
          this.server.bye = msg.reason || 'bye';
          this.record('server.bye', 'server', 'session', 'bye', msg.reason);
          break;
        default:
          break;
      }
      this.changed();
    }

    async addRemote(msg) {
      try {
        if (msg.type === 'end-of-candidates') {
          await this.pc.addIceCandidate({ candidate: '', sdpMid: '0', sdpMLineIndex: 0 }).catch(() => this.pc.addIceCandidate(null));
        } else {
          await this.pc.addIceCandidate({ candidate: msg.candidate, sdpMid: msg.sdpMid ?? '0', sdpMLineIndex: msg.sdpMLineIndex ?? 0 });
        }
      } catch (err) {
        if (this.main) log('err', `addIceCandidate failed: ${err} (${msg.candidate || 'end-of-candidates'})`);
      }
    }

    openChannel(label, o = {}) {
      const init = { ordered: o.ordered !== false };
      if (o.maxRetransmits !== undefined && o.maxRetransmits !== null && o.maxRetransmits !== '') init.maxRetransmits = Number(o.maxRetransmits);
      const dc = this.pc.createDataChannel(label, init);
      return this.adopt(dc, init);
    }

    adopt(dc, init) {
      dc.binaryType = 'arraybuffer';
      const label = dc.label;
      const ch = { dc, label, init, sent: 0, echoed: 0, bad: 0, collector: null, serverState: null };
      this.channels.set(label, ch);
      const rec = () => this.record(`page.ch.${label}`, 'page', `channel ${label}`, dc.readyState);
      rec();
      dc.onopen = rec; dc.onclosing = rec;
      dc.onclose = rec;
      dc.onerror = (e) => { if (this.main) log('err', `channel ${label} error: ${e.error ? e.error.message : e}`); };
      dc.onmessage = (e) => {
        ch.echoed++;
        if (ch.collector) ch.collector(e.data);
        this.changed();
      };
      return ch;
    }

    // Sends n payloads (text, binary or mixed) and resolves when every echo came back, or after timeoutMs.
    sendAndCollect(label, n, size, kind = 'mixed', o = {}) {
      const ch = this.channels.get(label);
      if (!ch) return Promise.resolve({ sent: 0, echoed: 0, ok: false, error: `no channel ${label}` });
      if (ch.collector) return Promise.resolve({ sent: 0, echoed: 0, ok: false, error: `channel ${label} is busy` });
      const timeoutMs = o.timeoutMs || 15000;
      const paceMs = o.paceMs || 0;
      const tag = `${this.name}.${label}.${Date.now() % 100000}`;
      const ordered = ch.dc.ordered;
      const expected = [];
      const byKey = new Map();
      let echoed = 0, mismatched = 0, outOfOrder = 0, next = 0, sent = 0;
      const firstBad = [];
      const started = performance.now();
      return new Promise((resolve) => {
        let done = false;
        const finish = (why) => {
          if (done) return; done = true;
          ch.collector = null;
          clearTimeout(timer);
          resolve({ sent, echoed, ok: sent === n && echoed === n && mismatched === 0, mismatched, outOfOrder,
                    lost: sent - echoed, ms: Math.round(performance.now() - started), why, firstBad, label, session: this.name });
        };
        const timer = setTimeout(() => finish('timeout'), timeoutMs);
        ch.collector = (data) => {
          let exp;
          if (ordered && next < expected.length && sameBytes(expected[next], data)) { exp = expected[next]; next++; }
          else {
            const k = keyOf(data);
            exp = byKey.get(k);
            if (exp !== undefined && ordered) outOfOrder++;
            if (exp === undefined || !sameBytes(exp, data)) {
              mismatched++;
              if (firstBad.length < 3) firstBad.push(typeof data === 'string' ? data.slice(0, 40) : `binary ${data.byteLength} bytes`);
              return;
            }
          }
          byKey.delete(keyOf(data));
          echoed++;
          if (echoed === n) finish('complete');
        };
        (async () => {
          for (let i = 0; i < n && !done; i++) {
            const p = makePayload(i, size, kind, tag);
            expected.push(p);
            byKey.set(keyOf(p), p);
            while (ch.dc.bufferedAmount > 1 << 20 && !done) await sleep(5);
            if (ch.dc.readyState !== 'open') { finish(`channel ${ch.dc.readyState} after ${sent} sent`); return; }
            try { ch.dc.send(p); } catch (err) { finish('send failed: ' + err); return; }
            sent++; ch.sent++;
            if (paceMs) await sleep(paceMs);
          }
          this.changed();
        })();
      });
    }

    async pollStats() {
      const pc = this.pc;
      if (!pc || pc.signalingState === 'closed') return;
      let stats;
      try { stats = await pc.getStats(); } catch (err) { return; }
      let pair = null;
      stats.forEach((r) => {
        if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
      });
      if (!pair) stats.forEach((r) => { if (!pair && r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') pair = r; });
      if (!pair) return;
      const l = stats.get(pair.localCandidateId), r = stats.get(pair.remoteCandidateId);
      if (!l || !r) return;
      const addr = (c) => `${c.address || c.ip || '(hidden)'}:${c.port}${c.protocol && c.protocol !== 'udp' ? '/' + c.protocol : ''}`;
      const p = { local: l.candidateType, remote: r.candidateType, localAddress: addr(l), remoteAddress: addr(r),
                  rtt: pair.currentRoundTripTime, bytesSent: pair.bytesSent, bytesReceived: pair.bytesReceived };
      const prev = this.pagePair;
      this.pagePair = p;
      if (!prev || prev.local !== p.local || prev.remote !== p.remote || prev.localAddress !== p.localAddress || prev.remoteAddress !== p.remoteAddress) {
        this.record('page.pair', 'page', 'selected pair', `${p.local}→${p.remote}`, `${p.localAddress} ↔ ${p.remoteAddress}`);
      }
      this.changed();
    }

    restartIce() {
      if (!this.pc) return Promise.resolve(false);
      const before = this.answersApplied;
      this.record('page.restart', 'page', 'ICE restart', 'restart', `restartIce() #${this.offersSent}`);
      this.pc.restartIce();   // fires negotiationneeded → negotiate() → a new offer
      return new Promise((resolve) => {
        const t0 = performance.now();
        const tick = () => {
          if (this.answersApplied > before) resolve(true);
          else if (performance.now() - t0 > 10000) resolve(false);
          else setTimeout(tick, 20);
        };
        tick();
      });
    }

    close(sendBye = true) {
      if (this.closed) return;
      this.closed = true;
      if (sendBye) this.send({ type: 'bye' });
      clearInterval(this.statsTimer);
      for (const ch of this.channels.values()) { try { ch.dc.close(); } catch (e) { /* already */ } }
      if (this.pc) { this.pc.close(); this.record('page.ice', 'page', 'iceConnectionState', 'closed'); this.record('page.conn', 'page', 'connectionState', 'closed'); }
      for (const ch of this.channels.values()) this.record(`page.ch.${ch.label}`, 'page', `channel ${ch.label}`, 'closed');
      setTimeout(() => { try { this.ws.close(1000); } catch (e) { /* already */ } }, 100);
    }

    state() {
      const channels = {};
      for (const [k, ch] of this.channels) channels[k] = { readyState: ch.dc.readyState, id: ch.dc.id, sent: ch.sent, echoed: ch.echoed, server: ch.serverState };
      let points = 0;
      for (const l of this.lanes.values()) points += l.points.length;
      return {
        name: this.name,
        pc: this.pc ? { ice: this.pc.iceConnectionState, connection: this.pc.connectionState, signaling: this.pc.signalingState, gathering: this.pc.iceGatheringState } : null,
        ws: this.ws ? { readyState: this.ws.readyState, closed: this.wsClosed } : null,
        channels,
        server: this.server,
        pair: { page: this.pagePair, server: this.server.pair },
        offersSent: this.offersSent, answersApplied: this.answersApplied, ufrags: this.ufrags,
        timelinePoints: points,
      };
    }

    async waitFor(pred, timeoutMs = 10000) {
      const t0 = performance.now();
      while (!pred(this)) {
        if (performance.now() - t0 > timeoutMs) return false;
        await sleep(25);
      }
      return true;
    }
  }

  // ---- timeline (SVG)
  const COLORS = {
    new: '#a9b1bd', connecting: '#e9a92c', checking: '#e9a92c', gathering: '#e9a92c',
    connected: '#3bb56a', completed: '#238a4c', open: '#3bb56a',
    disconnected: '#ef7d22', closing: '#9b6fcf', closed: '#59606b', failed: '#d9453c', bye: '#59606b',
    restart: '#3a7bd5',
  };
  const PAIR_COLORS = { host: '#3a7bd5', srflx: '#8e44ad', prflx: '#16a085', relay: '#c0392b' };
  function colorFor(lane, state) {
    if (lane.key.endsWith('.pair')) return PAIR_COLORS[String(state).split('→')[0]] || '#3a7bd5';
    return COLORS[state] || '#7f8c9d';
  }

  const SVGNS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, text) {
    const e = document.createElementNS(SVGNS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function laneOrder(lane) {
    const k = lane.key;
    const order = ['page.ws', 'page.ice', 'page.conn', 'page.ch.', 'page.pair', 'page.restart',
                   'server.ice', 'server.connection', 'server.dtls', 'server.sctp', 'server.ch.', 'server.pair', 'server.bye'];
    for (let i = 0; i < order.length; i++) if (k === order[i] || (order[i].endsWith('.') && k.startsWith(order[i]))) return i;
    return order.length;
  }

  function drawTimeline(s) {
    const svg = $('timeline');
    if (!svg || !s) return;
    const lanes = [...s.lanes.values()].sort((a, b) => laneOrder(a) - laneOrder(b) || a.key.localeCompare(b.key));
    const W = Math.max(900, (svg.parentNode.clientWidth || 1240) - 4);
    const left = 150, right = 12, top = 18, laneH = 20, gap = 4;
    const serverStart = lanes.findIndex((l) => l.side === 'server');
    const H = top + lanes.length * (laneH + gap) + (serverStart > 0 ? 18 : 0) + 22;
    svg.setAttribute('width', W); svg.setAttribute('height', H);
    svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const end = s.closed && s.closedAt ? s.closedAt : Math.max(s.now(), 1000);
    let tmax = end;
    for (const l of lanes) for (const p of l.points) tmax = Math.max(tmax, p.t);
    const x = (t) => left + (Math.max(0, t) / tmax) * (W - left - right);
    // axis
    const axisY = H - 16;
    svg.appendChild(el('line', { x1: left, y1: axisY, x2: W - right, y2: axisY, class: 'axis' }));
    const stepChoices = [100, 250, 500, 1000, 2000, 5000, 10000, 20000, 30000, 60000, 120000, 300000];
    const step = stepChoices.find((c) => tmax / c <= 12) || 600000;
    for (let t = 0; t <= tmax; t += step) {
      svg.appendChild(el('line', { x1: x(t), y1: top - 4, x2: x(t), y2: axisY, class: 'axis', 'stroke-opacity': 0.35 }));
      svg.appendChild(el('text', { x: x(t) + 2, y: axisY + 12, class: 'axis-label' }, t >= 1000 ? `${(t / 1000).toFixed(step < 1000 ? 1 : 0)} s` : `${t} ms`));
    }
    svg.appendChild(el('text', { x: 4, y: 12, class: 'lane-label', 'font-weight': 'bold' }, `page (${s.name})`));
    let y = top;
    lanes.forEach((lane, idx) => {
      if (idx === serverStart && serverStart > 0) {
        svg.appendChild(el('line', { x1: 0, y1: y, x2: W, y2: y, class: 'divider' }));
        svg.appendChild(el('text', { x: 4, y: y + 13, class: 'lane-label', 'font-weight': 'bold' }, 'server'));
        y += 18;
      }
      const g = el('g', { class: 'lane', 'data-side': lane.side, 'data-lane': lane.key });
      g.appendChild(el('text', { x: 8, y: y + laneH / 2 + 4, class: 'lane-label' }, lane.name));
      const isEvent = lane.key === 'page.restart' || lane.key === 'server.bye';
      if (isEvent) {
        lane.points.forEach((p) => {
          const x0 = x(p.t);
          const r = el('rect', { x: x0 - 2, y, width: 4, height: laneH, fill: colorFor(lane, p.state), class: 'seg', 'data-side': lane.side, 'data-state': p.state });
          r.appendChild(el('title', {}, `${lane.side} ${lane.name}: ${p.state} at ${(p.t / 1000).toFixed(3)} s${p.reason ? ' — ' + p.reason : ''}`));
          g.appendChild(r);
          g.appendChild(el('text', { x: x0 + 5, y: y + laneH / 2 + 4, class: 'seg-label dark' }, p.reason || p.state));
        });
        svg.appendChild(g);
        y += laneH + gap;
        return;
      }
      lane.points.forEach((p, i) => {
        const nextT = i + 1 < lane.points.length ? lane.points[i + 1].t : end;
        const x0 = x(p.t), x1 = Math.max(x(nextT), x0 + 3);
        const color = colorFor(lane, p.state);
        const r = el('rect', { x: x0, y, width: x1 - x0, height: laneH, rx: 3, fill: color, class: 'seg', 'data-side': lane.side, 'data-state': p.state });
        r.appendChild(el('title', {}, `${lane.side} ${lane.name}: ${p.state} at ${(p.t / 1000).toFixed(3)} s${p.reason ? ' — ' + p.reason : ''}`));
        g.appendChild(r);
        const label = p.state + (p.reason && lane.key.endsWith('pair') ? ' ' + p.reason : (p.reason ? ` (${p.reason})` : ''));
        const room = x1 - x0 - 6;
        if (room > 18) {
          const chars = Math.floor(room / 6.2);
          const txt = label.length > chars ? label.slice(0, Math.max(1, chars - 1)) + '…' : label;
          g.appendChild(el('text', { x: x0 + 4, y: y + laneH / 2 + 4, class: 'seg-label' + (p.state === 'new' ? ' dark' : '') }, txt));
        }
      });
      svg.appendChild(g);
      y += laneH + gap;
    });
  }

  // ---- UI wiring (main session)
  let main = null;
  const extras = [];
  let drawQueued = false;
  function scheduleDraw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => { drawQueued = false; render(); });
  }
  setInterval(() => { if (main && !main.closed) scheduleDraw(); }, 500);

  let renderPaused = false;
  function render() {
    if (!main || renderPaused) return;
    drawTimeline(main);
    const st = main.pc ? main.pc.connectionState : 'new';
    const pill = $('status');
    pill.textContent = main.closed ? 'closed' : `${st} · ice ${main.pc.iceConnectionState}` + (main.server.connection ? ` · server ${main.server.connection}` : '');
    pill.className = 'pill ' + (st === 'connected' ? 'ok' : st === 'failed' || st === 'closed' ? 'bad' : 'busy');
    const fmt = (p) => (p ? `${p.local} ${p.localAddress} → ${p.remote} ${p.remoteAddress}` : '–');
    $('pair-page').textContent = fmt(main.pagePair);
    $('pair-server').textContent = fmt(main.server.pair);
    const tb = $('channels').querySelector('tbody');
    tb.textContent = '';
    const sel = $('ch-select');
    const selected = sel.value;
    sel.textContent = '';
    for (const ch of main.channels.values()) {
      const tr = document.createElement('tr');
      const mode = (ch.dc.ordered ? 'ordered' : 'unordered') + (ch.dc.maxRetransmits !== null ? `, rtx ${ch.dc.maxRetransmits}` : '');
      for (const v of [ch.label, ch.dc.id, mode, ch.dc.readyState, ch.serverState || '–', ch.sent, ch.echoed, ch.bad]) {
        const td = document.createElement('td'); td.textContent = String(v); tr.appendChild(td);
      }
      tb.appendChild(tr);
      const o = document.createElement('option'); o.value = o.textContent = ch.label; sel.appendChild(o);
    }
    if (selected) sel.value = selected;
    const live = !main.closed;
    $('connect').disabled = live;
    for (const id of ['restart', 'close', 'open-channel', 'send', 'send-bin']) $(id).disabled = !live;
    if (extras.length) {
      const counts = {};
      for (const s of extras) { const k = s.pc ? s.pc.connectionState : '?'; counts[k] = (counts[k] || 0) + 1; }
      $('many').textContent = `${extras.length} sessions: ` + Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') + (lastMany ? ` — last connectMany: ${lastMany}` : '');
    }
  }
  let lastMany = '';

  function startMain(opts = {}) {
    if (main && !main.closed) main.close();
    main = new Session(Object.assign({ main: true, name: 'main' }, opts));
    main.listeners.add(scheduleDraw);
    const servers = main.opts.iceServers || iceServersFromQuery();
    $('ice-servers').textContent = 'iceServers: ' + JSON.stringify(servers.map((s) => s.urls));
    log('note', `connecting (${servers.length} ICE servers)`);
    main.connect();
    scheduleDraw();
    return main;
  }

  $('connect').onclick = () => startMain();
  $('restart').onclick = () => main && main.restartIce();
  $('close').onclick = () => { if (main) { main.closedAt = main.now(); main.close(); scheduleDraw(); } };
  $('open-channel').onclick = () => {
    if (!main) return;
    let label = $('ch-label').value.trim() || 'extra';
    if (main.channels.has(label)) { let i = 2; while (main.channels.has(`${label}${i}`)) i++; label = `${label}${i}`; }
    main.openChannel(label, { ordered: $('ch-ordered').checked, maxRetransmits: $('ch-rtx').value });
    scheduleDraw();
  };
  $('send').onclick = () => {
    const ch = main && main.channels.get($('ch-select').value);
    if (!ch || ch.dc.readyState !== 'open') return;
    const text = $('msg').value;
    const prev = ch.collector;
    if (!prev) ch.collector = (d) => { log('in', `⇐ ${ch.label}: ${typeof d === 'string' ? JSON.stringify(d.slice(0, 80)) : d.byteLength + ' bytes'}`); ch.collector = null; };
    ch.dc.send(text); ch.sent++;
    log('out', `⇒ ${ch.label}: ${JSON.stringify(text.slice(0, 80))}`);
    scheduleDraw();
  };
  $('send-bin').onclick = async () => {
    const label = $('ch-select').value;
    const n = Number($('bin-n').value) || 1, size = Number($('bin-size').value) || 1;
    const r = await main.sendAndCollect(label, n, size, 'binary');
    const ch = main.channels.get(label); if (ch) ch.bad += r.mismatched || 0;
    log(r.ok ? 'note' : 'err', `${label}: ${r.sent} binary sent, ${r.echoed} echoed byte for byte in ${r.ms} ms${r.ok ? '' : ' — ' + r.why}`);
    scheduleDraw();
  };

  // ---- test API
  window.echoTest = {
    connect(opts = {}) {
      const s = startMain(opts);
      const timeoutMs = opts.timeoutMs || 15000;
      return s.waitFor((x) => x.pc.connectionState === 'connected' && [...x.channels.values()].some((c) => c.dc.readyState === 'open'), timeoutMs)
        .then((ok) => Object.assign({ ok }, s.state()));
    },
    async openChannel(label, opts = {}) {
      if (!main) return { ok: false, error: 'not connected' };
      const ch = main.openChannel(label, opts);
      const ok = await main.waitFor(() => ch.dc.readyState === 'open', opts.timeoutMs || 10000);
      scheduleDraw();
      return { ok, readyState: ch.dc.readyState, id: ch.dc.id };
    },
    async sendAndCollect(label, n, size, kind = 'mixed', opts = {}) {
      if (!main) return { ok: false, error: 'not connected' };
      const r = await main.sendAndCollect(label, n, size, kind, opts);
      const ch = main.channels.get(label); if (ch) ch.bad += r.mismatched || 0;
      scheduleDraw();
      return r;
    },
    // Starts sendAndCollect without waiting: await it later with echoTest.result(id).
    startSend(label, n, size, kind = 'mixed', opts = {}) {
      const id = `p${Math.random().toString(36).slice(2, 8)}`;
      pending[id] = this.sendAndCollect(label, n, size, kind, opts);
      return id;
    },
    result(id) { return pending[id]; },
    async restartIce(opts = {}) {
      if (!main) return { ok: false };
      const t0 = performance.now();
      const answered = await main.restartIce();
      const connected = await main.waitFor((x) => ['connected', 'completed'].includes(x.pc.iceConnectionState), opts.timeoutMs || 10000);
      return { ok: answered && connected, answered, ms: Math.round(performance.now() - t0), offersSent: main.offersSent, answersApplied: main.answersApplied, ice: main.pc.iceConnectionState };
    },
    close() { if (main) { main.closedAt = main.now(); main.close(); scheduleDraw(); } return main ? main.state() : null; },
    state() { return main ? main.state() : null; },
    timeline() {
      const svg = $('timeline');
      return { pageSegments: svg.querySelectorAll('rect.seg[data-side="page"]').length,
               serverSegments: svg.querySelectorAll('rect.seg[data-side="server"]').length,
               lanes: [...svg.querySelectorAll('g.lane')].map((g) => g.getAttribute('data-lane')),
               width: Number(svg.getAttribute('width')), height: Number(svg.getAttribute('height')) };
    },
    log() { return logLines.slice(-200); },
    redraw() { render(); return true; },
    pauseRender(on) { renderPaused = !!on; if (!on) render(); return renderPaused; },
    async timerProbe(n = 50, ms = 10) { const t0 = performance.now(); for (let i = 0; i < n; i++) await sleep(ms); return (performance.now() - t0) / n; },
    // k independent sessions (each its own WebSocket and RTCPeerConnection), all at once; each echoes n messages.
    async connectMany(k, opts = {}) {
      const n = opts.n || 10, size = opts.size || 256, timeoutMs = opts.timeoutMs || 30000;
      const t0 = performance.now();
      const batch = [];
      for (let i = 0; i < k; i++) {
        const s = new Session({ name: `m${extras.length + 1}`, channels: [{ label: 'echo' }], iceServers: opts.iceServers });
        s.listeners.add(scheduleDraw);
        extras.push(s); batch.push(s);
        s.connect();
      }
      const results = await Promise.all(batch.map(async (s) => {
        const up = await s.waitFor((x) => x.channels.get('echo').dc.readyState === 'open', timeoutMs);
        if (!up) return { session: s.name, ok: false, why: `not open: pc ${s.pc.connectionState}, ice ${s.pc.iceConnectionState}, server ${JSON.stringify(s.server.connection)}` };
        const r = await s.sendAndCollect('echo', n, size, 'mixed', { timeoutMs });
        return Object.assign(r, { serverConnection: s.server.connection, pair: s.pagePair });
      }));
      const okCount = results.filter((r) => r.ok).length;
      lastMany = `${okCount}/${k} echoed ${n} messages each in ${Math.round(performance.now() - t0)} ms`;
      if (opts.close !== false) for (const s of batch) s.close();
      scheduleDraw();
      return { k, ok: okCount === k, okCount, ms: Math.round(performance.now() - t0), results };
    },
    // Sends raw text frames (strings, as they are) on the main session's WebSocket and waits until
    // as many `error` messages as frames arrived since (or timeoutMs), then settleMs more for extras.
    async sendRaw(frames, opts = {}) {
      if (!main || !main.ws) return { ok: false, error: 'not connected' };
      if (main.ws.readyState !== WebSocket.OPEN) return { ok: false, error: `WebSocket readyState ${main.ws.readyState}` };
      const timeoutMs = opts.timeoutMs || 5000, settleMs = opts.settleMs ?? 300;
      const expect = opts.expectErrors ?? frames.length;
      const from = main.server.errors.length;
      const t0 = performance.now();
      let sent = 0;
      for (const f of frames) { main.ws.send(String(f)); sent++; }
      const ok = await main.waitFor((x) => x.server.errors.length - from >= expect, timeoutMs);
      const ms = Math.round(performance.now() - t0);
      if (settleMs) await sleep(settleMs);
      return { ok, sent, ms, errors: main.server.errors.slice(from), ws: main.ws.readyState, wsClosed: main.wsClosed, bye: main.server.bye };
    },
    // A raw WebSocket of its own to /signal (not a Session): sends about `rate` messages a second
    // for durationMs (cycling through `messages`), counts what comes back, then closes it.
    // Start it with startFlood and await echoTest.result(id).
    async flood(opts = {}) {
      const durationMs = opts.durationMs || 3000, rate = opts.rate || 1500;
      const messages = opts.messages || ['{"type":"candidate","candidate":"candidate:1 1 udp 1 10.0.0.1 9 typ host","sdpMid":"0"}'];
      const url = opts.url || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal`;
      const ws = new WebSocket(url);
      const got = { errors: 0, byField: {}, types: {}, rateErrors: [], closed: null };
      ws.onmessage = (e) => {
        let m; try { m = JSON.parse(e.data); } catch (err) { got.types['(unparsable)'] = (got.types['(unparsable)'] || 0) + 1; return; }
        got.types[m.type] = (got.types[m.type] || 0) + 1;
        if (m.type === 'error') {
          got.errors++;
          got.byField[m.field] = (got.byField[m.field] || 0) + 1;
          if (m.field === 'rate') got.rateErrors.push({ t: Math.round(performance.now() - t0), reason: m.reason });
        }
      };
      ws.onclose = (e) => { got.closed = { code: e.code, reason: e.reason, t: Math.round(performance.now() - t0) }; };
      let t0 = performance.now();
      const opened = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), opts.openTimeoutMs || 5000);
        ws.onopen = () => { clearTimeout(timer); resolve(true); };
        ws.onerror = () => { clearTimeout(timer); resolve(false); };
      });
      if (!opened) return { ok: false, error: `flood WebSocket did not open (readyState ${ws.readyState})`, closed: got.closed };
      t0 = performance.now();
      let sent = 0, maxBuffered = 0;
      while (ws.readyState === WebSocket.OPEN) {
        const el = performance.now() - t0;
        if (el >= durationMs) break;
        const due = Math.floor((el * rate) / 1000) + 1;
        while (sent < due && ws.readyState === WebSocket.OPEN) { ws.send(messages[sent % messages.length]); sent++; }
        maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
        await sleep(4);
      }
      const sendMs = Math.round(performance.now() - t0);
      // let the server's answers to the last messages arrive, then close
      await sleep(opts.settleMs ?? 700);
      const closedEarly = got.closed;
      try { ws.close(1000); } catch (e) { /* already */ }
      const t1 = performance.now();
      while (!got.closed && performance.now() - t1 < 3000) await sleep(20);
      return { ok: !closedEarly, sent, sendMs, ratePerSecond: Math.round((sent * 1000) / Math.max(sendMs, 1)), maxBuffered,
               errors: got.errors, byField: got.byField, types: got.types, rateErrors: got.rateErrors,
               closedEarly, closed: got.closed };
    },
    startFlood(opts = {}) {
      const id = `f${Math.random().toString(36).slice(2, 8)}`;
      pending[id] = this.flood(opts);
      return id;
    },
  };
  const pending = {};

  render();
  if (new URLSearchParams(location.search).get('autoconnect')) startMain();
})();
