// A WHIP (RFC 9725) and WHEP (draft-ietf-wish-whep) client for the LiveServer's pages, plain JS:
//   POST the offer at once (no waiting for ICE gathering) → 201 with the answer, Location, ETag and
//   Link (ice-server) headers; every local candidate, then end-of-candidates, trickled with PATCH
//   `application/trickle-ice-sdpfrag` + `If-Match: <etag>` (RFC 8840 fragments); an ICE restart is
//   a PATCH with `If-Match: *` and the new ufrag/pwd, whose 200 body (the server's new ufrag, pwd
//   and candidates) goes into the remote description; DELETE ends the session (also on page hide).
// Exposes window.WhipWhep = { Client, HttpError, parseFragment, buildFragment, parseLinks }.
'use strict';

(function (global) {
  const FRAG = 'application/trickle-ice-sdpfrag';

  /** A WHIP/WHEP request the server refused: `status` is the HTTP status code. */
  class HttpError extends Error {
    constructor(what, status, body) {
      super(`${what}: HTTP ${status}${body ? ' ' + body.slice(0, 200) : ''}`);
      this.status = status;
    }
  }

  // ---- SDP helpers
  const lines = (sdp) => (sdp || '').split(/\r?\n/).filter((l) => l.length > 0);
  const attr = (sdp, name) => { const m = new RegExp(`^a=${name}:(.*)$`, 'm').exec(sdp || ''); return m ? m[1].trim() : null; };

  /** The `m=` sections of an SDP: [{mid, mline, lines}] (lines without the m= line). */
  function sections(sdp) {
    const out = [];
    for (const l of lines(sdp)) {
      if (l.startsWith('m=')) out.push({ mid: null, mline: l, lines: [] });
      else if (out.length) {
        const s = out[out.length - 1];
        s.lines.push(l);
        if (l.startsWith('a=mid:')) s.mid = l.slice(6).trim();
      }
    }
    return out;
  }

  /**
   * An RFC 8840 fragment: ufrag/pwd, then per mid its m= line, a=mid and candidate lines, then
   * a=end-of-candidates. `cands`: [{mid, candidate}] (candidate = the `candidate:…` string).
   */
  function buildFragment(localSdp, { ufrag, pwd, cands = [], eoc = false, mids = null }) {
    const out = [`a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`];
    const secs = sections(localSdp);
    const byMid = new Map();
    for (const c of cands) {
      const mid = c.mid != null ? c.mid : (secs[0] && secs[0].mid);
      if (!byMid.has(mid)) byMid.set(mid, []);
      byMid.get(mid).push(c.candidate);
    }
    let wanted = mids || [...byMid.keys()];
    if (wanted.length === 0 && secs.length) wanted = [secs[0].mid];   // eoc or restart only: the first (bundle tag) section
    for (const mid of wanted) {
      const s = secs.find((x) => x.mid === mid) || secs[0];
      if (!s) continue;
      out.push(s.mline, `a=mid:${s.mid}`);
      for (const c of byMid.get(mid) || []) out.push(c.startsWith('a=') ? c : `a=${c}`);
    }
    if (eoc) out.push('a=end-of-candidates');
    return out.join('\r\n') + '\r\n';
  }

  /** A trickle-ice-sdpfrag body → {ufrag, pwd, candidates: [{mid, line}], eoc}. */
  function parseFragment(text) {
    const f = { ufrag: null, pwd: null, candidates: [], eoc: false };
    let mid = null;
    for (const l of lines(text)) {
      if (l.startsWith('a=ice-ufrag:')) f.ufrag = f.ufrag || l.slice(12).trim();
      else if (l.startsWith('a=ice-pwd:')) f.pwd = f.pwd || l.slice(10).trim();
      else if (l.startsWith('m=')) mid = null;
      else if (l.startsWith('a=mid:')) mid = l.slice(6).trim();
      else if (l.startsWith('a=candidate:')) f.candidates.push({ mid, line: l });
      else if (l === 'a=end-of-candidates') f.eoc = true;
    }
    return f;
  }

  /**
   * The remote answer after an ICE restart: the old one with the server's new ufrag/pwd, its
   * candidates replaced by the fragment's (kept when the fragment has none) in their sections.
   */
  function restartedAnswer(oldSdp, frag) {
    const secs = sections(oldSdp);
    const firstMid = secs.length ? secs[0].mid : null;
    const out = [];
    let mid = null, inMedia = false;
    const flush = () => {
      if (!inMedia || !frag.candidates.length) return;
      for (const c of frag.candidates) if ((c.mid == null ? firstMid : c.mid) === mid) out.push(c.line);
      if (frag.eoc) out.push('a=end-of-candidates');
    };
    for (const l of lines(oldSdp)) {
      if (l.startsWith('m=')) { flush(); inMedia = true; mid = null; out.push(l); continue; }
      if (l.startsWith('a=mid:')) mid = l.slice(6).trim();
      if (l.startsWith('a=ice-ufrag:') && frag.ufrag) { out.push(`a=ice-ufrag:${frag.ufrag}`); continue; }
      if (l.startsWith('a=ice-pwd:') && frag.pwd) { out.push(`a=ice-pwd:${frag.pwd}`); continue; }
      if (frag.candidates.length && (l.startsWith('a=candidate:') || l === 'a=end-of-candidates')) continue;
      out.push(l);
    }
    flush();
    return out.join('\r\n') + '\r\n';
  }

  /** `Link` header values → RTCIceServer list (rel="ice-server"; TURN username/credential). */
  function parseLinks(header) {
    const servers = [];
    if (!header) return servers;
    for (const part of header.split(/,(?=\s*<)/)) {
      const m = /<([^>]+)>(.*)/.exec(part.trim());
      if (!m) continue;
      const params = {};
      for (const p of m[2].split(';')) {
        const kv = /^\s*([\w-]+)\s*=\s*"?([^"]*)"?\s*$/.exec(p);
        if (kv) params[kv[1].toLowerCase()] = kv[2];
      }
      if (params.rel !== 'ice-server') continue;
      const s = { urls: m[1] };
      if (params.username) s.username = params.username;
      if (params.credential) s.credential = params.credential;
      servers.push(s);
    }
    return servers;
  }

  /**
   * One WHIP or WHEP session over `pc` (whose transceivers the caller has added).
   * opts: endpoint (URL of POST /whip/{stream} or /whep/{stream}), token (Bearer, optional),
   * log(kind, text) (optional).
   */
  class Client {
    constructor(pc, opts) {
      this.pc = pc;
      this.endpoint = new URL(opts.endpoint, location.href).href;
      this.token = opts.token || null;
      this.log = opts.log || (() => {});
      this.resource = null;          // the session's URL (from Location)
      this.etag = null;
      this.iceServers = [];
      this.counters = { posts: 0, patches: 0, trickled: 0, eocs: 0, restarts: 0, patchErrors: 0, deletes: 0 };
      this.errors = [];
      this.lastStatus = null;
      this.timing = {};              // ms since construction: post, answer, restartStart, restartDone
      this.t0 = performance.now();
      this.queue = [];               // candidates waiting for the resource (or a restart's 200)
      this.eocPending = false;
      this.eocSent = new Set();      // ufrags whose end-of-candidates went out
      this.restarting = false;
      this.stopped = false;
      this.chain = Promise.resolve();   // PATCHes go one at a time, in order
      pc.addEventListener('icecandidate', (e) => this.onCandidate(e.candidate));
      this.onHide = () => this.stop({ keepalive: true });
      addEventListener('pagehide', this.onHide);
    }

    ms() { return Math.round(performance.now() - this.t0); }

    headers(extra) {
      const h = Object.assign({}, extra);
      if (this.token) h.Authorization = `Bearer ${this.token}`;
      return h;
    }

    localIce() {
      const sdp = this.pc.localDescription ? this.pc.localDescription.sdp : '';
      return { ufrag: attr(sdp, 'ice-ufrag'), pwd: attr(sdp, 'ice-pwd'), sdp };
    }

    /** createOffer → setLocalDescription → POST at once → setRemoteDescription(answer). */
    async start() {
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      this.counters.posts++;
      this.timing.post = this.ms();
      this.log('out', `POST ${new URL(this.endpoint).pathname} (offer, ${offer.sdp.length} bytes, gathering ${this.pc.iceGatheringState})`);
      const r = await fetch(this.endpoint, {
        method: 'POST', headers: this.headers({ 'Content-Type': 'application/sdp' }), body: offer.sdp,
      });
      this.lastStatus = r.status;
      const body = await r.text();
      if (r.status !== 201) throw new HttpError('POST', r.status, body);
      const loc = r.headers.get('Location');
      if (!loc) throw new Error('POST: 201 without a Location header');
      this.resource = new URL(loc, this.endpoint).href;
      this.etag = r.headers.get('ETag');
      this.iceServers = parseLinks(r.headers.get('Link'));
      this.timing.answer = this.ms();
      this.log('in', `201 Location ${new URL(this.resource).pathname}, ETag ${this.etag}, ${this.iceServers.length} ice server(s), answer ${body.length} bytes`);
      if (this.iceServers.length) {
        try { this.pc.setConfiguration(Object.assign(this.pc.getConfiguration(), { iceServers: this.iceServers })); }
        catch (e) { this.log('note', `setConfiguration(iceServers): ${e}`); }
      }
      await this.pc.setRemoteDescription({ type: 'answer', sdp: body });
      this.flush();
      return this.resource;
    }

    onCandidate(c) {
      if (this.stopped) return;
      if (!c || !c.candidate) { this.eocPending = true; }
      else this.queue.push({ mid: c.sdpMid, candidate: c.candidate, ufrag: c.usernameFragment });
      // candidates gathered within 20 ms of each other share a PATCH
      if (!this.flushTimer) this.flushTimer = setTimeout(() => { this.flushTimer = null; this.flush(); }, 20);
    }

    /** Sends what is queued, when there is a resource and no restart under way. */
    flush() {
      if (!this.resource || this.restarting || this.stopped) return;
      const { ufrag, pwd, sdp } = this.localIce();
      if (!ufrag) return;
      // candidates of an older ICE generation are dropped
      const cands = this.queue.filter((c) => !c.ufrag || c.ufrag === ufrag);
      this.queue = [];
      const eoc = this.eocPending && !this.eocSent.has(ufrag);
      this.eocPending = false;
      if (!cands.length && !eoc) return;
      if (eoc) this.eocSent.add(ufrag);
      const body = buildFragment(sdp, { ufrag, pwd, cands, eoc });
      this.chain = this.chain.then(() => this.patch(body, `${cands.length} candidate(s)${eoc ? ' + end-of-candidates' : ''}`, cands.length, eoc));
    }

    async patch(body, what, n, eoc) {
      if (this.stopped || !this.resource) return;
      this.counters.patches++;
      try {
        const r = await fetch(this.resource, {
          method: 'PATCH', headers: this.headers({ 'Content-Type': FRAG, 'If-Match': this.etag || '*' }), body,
        });
        this.lastStatus = r.status;
        if (r.status !== 204 && r.status !== 200) throw new HttpError('PATCH (trickle)', r.status, await r.text());
        const tag = r.headers.get('ETag');
        if (tag) this.etag = tag;
        this.counters.trickled += n;
        if (eoc) this.counters.eocs++;
        this.log('out', `PATCH ${what} → ${r.status}`);
      } catch (e) {
        this.counters.patchErrors++;
        this.errors.push(String(e.message || e));
        this.log('err', `PATCH ${what}: ${e.message || e}`);
      }
    }

    /** ICE restart: restartIce() + a new offer, PATCH If-Match: * with the new ufrag/pwd, the 200's fragment into the remote answer. */
    async restartIce() {
      if (!this.resource) throw new Error('restartIce: no session');
      await this.chain;
      this.restarting = true;
      this.eocPending = false;       // the old generation's end-of-candidates, if not sent yet, is moot
      this.timing.restartStart = this.ms();
      try {
        const oldUfrag = this.localIce().ufrag;
        this.pc.restartIce();
        const offer = await this.pc.createOffer({ iceRestart: true });
        await this.pc.setLocalDescription(offer);
        const { ufrag, pwd, sdp } = this.localIce();
        if (!ufrag || ufrag === oldUfrag) throw new Error('restartIce: the offer kept its ufrag');
        const body = buildFragment(sdp, { ufrag, pwd });
        this.counters.patches++;
        this.log('out', `PATCH If-Match: * (ICE restart, ufrag ${oldUfrag} → ${ufrag})`);
        const r = await fetch(this.resource, {
          method: 'PATCH', headers: this.headers({ 'Content-Type': FRAG, 'If-Match': '*' }), body,
        });
        this.lastStatus = r.status;
        const text = await r.text();
        if (r.status !== 200) throw new HttpError('PATCH (ICE restart)', r.status, text);
        const tag = r.headers.get('ETag');
        if (tag) this.etag = tag;
        const frag = parseFragment(text);
        if (!frag.ufrag || !frag.pwd) throw new Error('PATCH (ICE restart): 200 without the server\'s ice-ufrag/ice-pwd');
        this.log('in', `200 ETag ${this.etag}, server ufrag ${frag.ufrag}, ${frag.candidates.length} candidate(s)${frag.eoc ? ', end-of-candidates' : ''}`);
        for (const c of frag.candidates) this.log('in', `  ${c.line}`);
        await this.pc.setRemoteDescription({ type: 'answer', sdp: restartedAnswer(this.pc.remoteDescription.sdp, frag) });
        this.counters.restarts++;
        this.timing.restartDone = this.ms();
        return { localUfrag: ufrag, serverUfrag: frag.ufrag, candidates: frag.candidates.length };
      } catch (e) {
        this.errors.push(String(e.message || e));
        // back to the old generation: its credentials stay in force (the new candidates are dropped)
        if (this.pc.signalingState === 'have-local-offer') {
          try { await this.pc.setLocalDescription({ type: 'rollback' }); } catch (r) { this.log('note', `rollback: ${r}`); }
        }
        throw e;
      } finally {
        this.restarting = false;
        this.flush();
      }
    }

    /** DELETE the session (once) and close the connection. keepalive: from pagehide. */
    async stop(opts = {}) {
      if (this.stopped) return this.lastStatus;
      this.stopped = true;
      removeEventListener('pagehide', this.onHide);
      let status = null;
      if (this.resource) {
        this.counters.deletes++;
        try {
          const r = await fetch(this.resource, { method: 'DELETE', headers: this.headers({}), keepalive: !!opts.keepalive });
          status = r.status;
          this.lastStatus = status;
          this.log('out', `DELETE → ${status}`);
        } catch (e) {
          this.log('err', `DELETE: ${e.message || e}`);
        }
      }
      this.pc.close();
      return status;
    }
  }

  global.WhipWhep = { Client, HttpError, parseFragment, buildFragment, parseLinks, restartedAnswer };
})(window);
