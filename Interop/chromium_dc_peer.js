// The page side of Interop/chromium_dc_peer.py: one RTCPeerConnection with one data channel,
// WebRTC defaults (no ICE servers, mDNS host candidates). Installed into about:blank (after
// Interop/browser_peer_signaling.js, its signaling) by the Python program, which feeds it the
// remote peer's lines (peer.input) and polls what it has to say (peer.take). Nothing here talks to anything but the RTCPeerConnection.
(() => {
  if (window.peer) return;
  const out = [];             // WebRTC-JSONL messages for stdout, in order
  const log = [];             // free-form lines for stderr
  const st = {
    role: null, opts: null, pc: null, dc: null,
    remoteSet: false, queued: [], got: 0, gotBytes: 0, sent: 0, sentBytes: 0,
    sendDone: false, sendStartedMs: null, sendDoneMs: null, firstGotMs: null, lastGotMs: null,
    openMs: null, errors: [], lowEvents: 0,
  };
  const now = () => Date.now();
  const emit = (m) => out.push(m);
  const note = (s) => log.push(`${now()} ${s}`);
  const state = (k, s) => emit({t: 'state', k, s, ms: now()});

  function wireChannel(dc) {
    st.dc = dc;
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = 256 * 1024;
    dc.onopen = () => { st.openMs = now(); state('dc', 'open'); startSending(); };
    dc.onclosing = () => state('dc', 'closing');
    dc.onclose = () => { note('dc close event'); state('dc', 'closed'); };
    dc.onerror = (e) => { const m = e && e.error ? `${e.error.name}: ${e.error.message} (sctpCauseCode ${e.error.sctpCauseCode}, errorDetail ${e.error.errorDetail})` : String(e); st.errors.push(m); note('dc error ' + m); };
    dc.onmessage = (e) => {
      const d = e.data;
      st.got += 1;
      st.gotBytes += typeof d === 'string' ? new TextEncoder().encode(d).length : d.byteLength;
      const t = now();
      if (st.firstGotMs === null) st.firstGotMs = t;
      st.lastGotMs = t;
      if (st.opts.restartAfter && st.got === st.opts.restartAfter) restartIce();
    };
  }

  // --restart-after: W3C restartIce(), then a new offer from this side (in the operations chain,
  // so it never interleaves with applying a remote description).
  function restartIce() {
    note(`restarting ICE after ${st.got} messages`);
    chain = chain.then(async () => {
      if (st.pc.signalingState !== 'stable') { note(`not restarting in ${st.pc.signalingState}`); return; }
      st.pc.restartIce();
      const offer = await st.pc.createOffer();
      await st.pc.setLocalDescription(offer);
      emit({t: 'sdp', type: 'offer', sdp: st.pc.localDescription.sdp});
    }).catch((e) => { st.errors.push(String(e)); note('restart failed: ' + e); });
  }

  async function startSending() {
    const {count, size, text} = st.opts;
    const dc = st.dc;
    st.sendStartedMs = now();
    const payload = text ? 'x'.repeat(size) : new Uint8Array(size);
    const high = 1024 * 1024;
    try {
      while (st.sent < count) {
        if (dc.readyState !== 'open') { note(`send stopped at ${st.sent}: channel ${dc.readyState}`); return; }
        if (dc.bufferedAmount > high) {
          st.lowEvents += 1;
          await new Promise((resolve) => {
            const done = () => { dc.removeEventListener('bufferedamountlow', done); dc.removeEventListener('close', done); resolve(); };
            dc.addEventListener('bufferedamountlow', done);
            dc.addEventListener('close', done);
          });
          continue;
        }
        if (!text) new DataView(payload.buffer).setUint32(0, st.sent);
        dc.send(payload);
        st.sent += 1;
        st.sentBytes += size;
      }
      st.sendDone = true;
      st.sendDoneMs = now();
      note(`handed ${st.sent} messages to the channel in ${st.sendDoneMs - st.sendStartedMs} ms`);
    } catch (e) {
      st.errors.push(String(e));
      note(`send failed at ${st.sent}: ${e}`);
    }
  }

  const onRemote = window.peerSignaling.remoteHandler(st, emit, note);

  let chain = Promise.resolve();

  async function summary() {
    const s = {
      page: {
        role: st.role, got: st.got, gotBytes: st.gotBytes, sent: st.sent, sentBytes: st.sentBytes,
        sendDone: st.sendDone, openMs: st.openMs, sendStartedMs: st.sendStartedMs, sendDoneMs: st.sendDoneMs,
        firstGotMs: st.firstGotMs, lastGotMs: st.lastGotMs, msSinceLastGot: st.lastGotMs === null ? null : now() - st.lastGotMs,
        bufferedAmount: st.dc ? st.dc.bufferedAmount : null, dcState: st.dc ? st.dc.readyState : null,
        lowWaits: st.lowEvents, errors: st.errors,
        sctp: st.pc && st.pc.sctp ? {state: st.pc.sctp.state, maxMessageSize: st.pc.sctp.maxMessageSize,
          maxChannels: st.pc.sctp.maxChannels, dtls: st.pc.sctp.transport && st.pc.sctp.transport.state,
          ice: st.pc.sctp.transport && st.pc.sctp.transport.iceTransport && st.pc.sctp.transport.iceTransport.state} : null,
        conn: st.pc ? st.pc.connectionState : null, ice: st.pc ? st.pc.iceConnectionState : null,
      },
      stats: [],
    };
    if (st.pc && st.pc.connectionState !== 'closed') {
      const r = await st.pc.getStats();
      const pairs = {};
      r.forEach((x) => { if (x.type === 'candidate-pair') pairs[x.id] = x; });
      let selected = null;
      r.forEach((x) => { if (x.type === 'transport' && x.selectedCandidatePairId) selected = x.selectedCandidatePairId; });
      r.forEach((x) => {
        if (x.type === 'data-channel' || x.type === 'transport' || x.type === 'peer-connection' ||
            (x.type === 'candidate-pair' && (x.id === selected || x.nominated))) s.stats.push(x);
        if ((x.type === 'local-candidate' || x.type === 'remote-candidate') && selected && pairs[selected] &&
            (pairs[selected].localCandidateId === x.id || pairs[selected].remoteCandidateId === x.id)) s.stats.push(x);
      });
    }
    return s;
  }

  window.peer = {
    start(role, opts) {
      st.role = role;
      st.opts = opts;
      const pc = new RTCPeerConnection();
      st.pc = pc;
      window.peerSignaling.wireLocal(pc, emit, state);
      pc.onselectedcandidatepairchange = null;
      pc.ondatachannel = (e) => wireChannel(e.channel);
      if (role === 'offer') {
        const init = {ordered: !opts.unordered};
        if (opts.maxRetransmits !== null && opts.maxRetransmits !== undefined) init.maxRetransmits = opts.maxRetransmits;
        wireChannel(pc.createDataChannel(opts.label, init));
        chain = chain.then(async () => {
          const offer = await pc.createOffer();
          await pc.setLocalDescription(offer);
          emit({t: 'sdp', type: 'offer', sdp: pc.localDescription.sdp});
        }).catch((e) => { st.errors.push(String(e)); note('offer failed: ' + e); });
      }
      return true;
    },
    input(lines) {
      for (const m of lines) chain = chain.then(() => onRemote(m)).catch((e) => { st.errors.push(String(e)); note(`input ${m.t} failed: ${e}`); });
      return true;
    },
    take() {
      const r = {out: out.splice(0), log: log.splice(0), got: st.got, gotBytes: st.gotBytes, sent: st.sent,
                 buffered: st.dc ? st.dc.bufferedAmount : null};
      return r;
    },
    pair() {
      return window.peerSignaling.selectedPair(st.pc);
    },
    async wire() {
      // once a second: did Chromium keep sending (retransmissions) / receiving while `got` stood still?
      if (!st.pc || st.pc.connectionState === 'closed') return null;
      const r = await st.pc.getStats();
      const w = {};
      r.forEach((x) => {
        if (x.type === 'transport') { w.pktSent = x.packetsSent; w.pktRecv = x.packetsReceived; w.bytesSent = x.bytesSent; w.bytesRecv = x.bytesReceived; }
        if (x.type === 'data-channel') { w.dcMsgSent = x.messagesSent; w.dcMsgRecv = x.messagesReceived; }
      });
      return w;
    },
    summary,
    close() {
      if (st.pc) st.pc.close();
      return true;
    },
  };
})();
