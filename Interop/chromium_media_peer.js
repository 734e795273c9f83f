// The page side of Interop/chromium_media_peer.py: one RTCPeerConnection that sends Chromium's
// fake camera and microphone (--use-fake-device-for-media-stream), receives audio and video, and
// optionally carries one data channel. Installed into the page (after
// Interop/browser_peer_signaling.js, its signaling) by the Python program, which feeds it the
// remote peer's lines (peer.input) and polls what it has to say (peer.take, peer.media).
// Nothing here talks to anything but the RTCPeerConnection.
(() => {
  if (window.peer) return;
  const out = [];             // Media-JSONL messages for stdout, in order
  const log = [];             // free-form lines for stderr
  const st = {
    role: null, opts: null, pc: null, dc: null, remoteSet: false, queued: [],
    got: 0, gotBytes: 0, sent: 0, errors: [], local: {video: null, audio: null},
    sendStartedMs: null, sendStoppedMs: null, elements: [], codecs: null,
  };
  const now = () => Date.now();
  const emit = (m) => out.push(m);
  const note = (s) => log.push(`${now()} ${s}`);
  const state = (k, s) => emit({t: 'state', k, s, ms: now()});
  const fail = (what) => (e) => { st.errors.push(`${what}: ${e}`); note(`${what} failed: ${e && e.stack || e}`); };

  function wireChannel(dc) {
    st.dc = dc;
    dc.binaryType = 'arraybuffer';
    dc.onopen = () => {
      state('dc', 'open');
      const payload = new Uint8Array(st.opts.size);
      for (; st.sent < st.opts.count && dc.readyState === 'open'; st.sent++) dc.send(payload);
    };
    dc.onclosing = () => state('dc', 'closing');
    dc.onclose = () => state('dc', 'closed');
    dc.onmessage = (e) => {
      st.got += 1;
      st.gotBytes += typeof e.data === 'string' ? new TextEncoder().encode(e.data).length : e.data.byteLength;
    };
  }

  // Remote tracks go to (muted for video, audible for audio) media elements: Chromium renders
  // (and for audio, pulls NetEq, so totalSamplesReceived grows) only for a track with a sink.
  function sink(track) {
    const el = document.createElement(track.kind === 'video' ? 'video' : 'audio');
    el.autoplay = true;
    el.playsInline = true;
    if (track.kind === 'video') el.muted = true;
    el.srcObject = new MediaStream([track]);
    document.body.appendChild(el);
    st.elements.push(el);
    el.play().catch((e) => note(`play() ${track.kind}: ${e}`));
    note(`remote ${track.kind} track ${track.id} attached to <${el.tagName.toLowerCase()}>`);
  }

  function preferCodec(transceiver) {
    const want = st.opts.videoCodec;
    if (!want || transceiver.receiver.track.kind !== 'video' || !transceiver.setCodecPreferences) return;
    const caps = RTCRtpReceiver.getCapabilities('video').codecs;
    const first = caps.filter((c) => c.mimeType.toLowerCase() === `video/${want.toLowerCase()}`);
    if (!first.length) { fail('codec preference')(`this Chromium offers no ${want}`); return; }
    // the wanted codec, then rtx/red/ulpfec (resilience, keeps NACK via RTX), nothing else
    const rest = caps.filter((c) => /\/(rtx|red|ulpfec)$/i.test(c.mimeType));
    transceiver.setCodecPreferences(first.concat(rest));
  }

  async function getMedia() {
    const o = st.opts;
    if (!o.sendVideo && !o.sendAudio) return;
    const constraints = {
      video: o.sendVideo ? {width: o.width, height: o.height, frameRate: o.fps} : false,
      audio: o.sendAudio ? {echoCancellation: false, noiseSuppression: false, autoGainControl: false} : false,
    };
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    for (const t of stream.getTracks()) {
      st.local[t.kind] = t;
      const s = t.getSettings();
      note(`local ${t.kind} track ${t.label}: ${JSON.stringify(s)}`);
    }
    st.stream = stream;
  }

  // Offerer: one transceiver per kind this side sends or receives.
  function addTransceivers() {
    const o = st.opts;
    for (const kind of ['audio', 'video']) {
      const send = kind === 'video' ? o.sendVideo : o.sendAudio;
      const recv = kind === 'video' ? o.receiveVideo : o.receiveAudio;
      if (!send && !recv) continue;
      const direction = send && recv ? 'sendrecv' : send ? 'sendonly' : 'recvonly';
      const init = {direction};
      if (send) init.streams = [st.stream];
      const tr = st.pc.addTransceiver(send ? st.local[kind] : kind, init);
      preferCodec(tr);
    }
  }

  // Answerer: each offered media section gets our track and the direction this side wants.
  async function fitTransceivers() {
    const o = st.opts;
    const used = {audio: false, video: false};
    for (const tr of st.pc.getTransceivers()) {
      if (tr.stopped || tr.mid === null) continue;
      const kind = tr.receiver.track.kind;
      if (used[kind]) { tr.direction = 'inactive'; continue; }
      used[kind] = true;
      const send = kind === 'video' ? o.sendVideo : o.sendAudio;
      const recv = kind === 'video' ? o.receiveVideo : o.receiveAudio;
      if (send) {
        await tr.sender.replaceTrack(st.local[kind]);
        tr.sender.setStreams(st.stream);
      }
      tr.direction = send && recv ? 'sendrecv' : send ? 'sendonly' : recv ? 'recvonly' : 'inactive';
      preferCodec(tr);
    }
    for (const kind of ['audio', 'video']) {
      const send = kind === 'video' ? o.sendVideo : o.sendAudio;
      if (send && !used[kind]) fail('answer')(`the offer has no ${kind} section to send on`);
    }
  }

  const onRemote = window.peerSignaling.remoteHandler(st, emit, note, fitTransceivers);

  let chain = Promise.resolve();

  // getStats → the Media-JSONL counters, per kind and direction.
  async function media() {
    const r = {sent: {}, recv: {}, codecs: {}};
    if (!st.pc || st.pc.connectionState === 'closed') return r;
    const stats = await st.pc.getStats();
    const byId = {};
    stats.forEach((x) => { byId[x.id] = x; });
    stats.forEach((x) => {
      const codec = x.codecId && byId[x.codecId] ? byId[x.codecId].mimeType : undefined;
      if (x.type === 'outbound-rtp') {
        // packetsSent counts retransmissions too: packets = the media packets, as a receiver counts them
        const packets = (x.packetsSent || 0) - (x.retransmittedPacketsSent || 0);
        const m = {frames: x.kind === 'video' ? (x.framesSent || 0) : packets, packets, bytes: x.bytesSent || 0};
        if (x.kind === 'video') {
          Object.assign(m, {encoded: x.framesEncoded || 0, keyframes: x.keyFramesEncoded || 0,
                            plis: x.pliCount || 0, firs: x.firCount || 0, width: x.frameWidth, height: x.frameHeight,
                            fps: x.framesPerSecond, limitation: x.qualityLimitationReason,
                            target: x.targetBitrate, encoder: x.encoderImplementation});
        }
        m.nacks = x.nackCount || 0;
        m.retransmitted = x.retransmittedPacketsSent || 0;
        if (codec) m.codec = codec;
        const prev = r.sent[x.kind];
        if (!prev || m.packets > prev.packets) r.sent[x.kind] = m;  // simulcast/none: the one that sends
      } else if (x.type === 'inbound-rtp') {
        const m = {packets: x.packetsReceived || 0, lost: x.packetsLost || 0, nacks: x.nackCount || 0,
                   bytes: x.bytesReceived || 0};
        if (x.kind === 'video') {
          // frames = framesDecoded: framesReceived leaves out frames completed by a retransmission
          // (under loss it stays below framesDecoded)
          Object.assign(m, {frames: x.framesDecoded || 0, received: x.framesReceived || 0, keyframes: x.keyFramesDecoded || 0,
                            decoded: x.framesDecoded || 0, plis: x.pliCount || 0, firs: x.firCount || 0,
                            dropped: x.framesDropped || 0, width: x.frameWidth, height: x.frameHeight,
                            freezes: x.freezeCount || 0, decoder: x.decoderImplementation});
        } else {
          Object.assign(m, {frames: x.packetsReceived || 0, decoded: x.totalSamplesReceived || 0,
                            concealed: x.concealedSamples || 0, plis: 0});
        }
        if (codec) m.codec = codec;
        const prev = r.recv[x.kind];
        if (!prev || m.packets > prev.packets) r.recv[x.kind] = m;
      }
    });
    // The send-side bandwidth estimate (transport-wide CC / REMB) of the selected pair.
    stats.forEach((x) => {
      if (x.type === 'transport' && x.selectedCandidatePairId && byId[x.selectedCandidatePairId]) {
        const bwe = byId[x.selectedCandidatePairId].availableOutgoingBitrate;
        if (bwe !== undefined && r.sent.video) r.sent.video.bwe = bwe;
      }
    });
    return r;
  }

  // --duration: stop sending (the tracks end, senders go quiet) once the media time has passed.
  function stopSending() {
    for (const t of Object.values(st.local)) if (t) t.stop();
    st.sendStoppedMs = now();
    note('local tracks stopped');
    return true;
  }

  const pair = () => window.peerSignaling.selectedPair(st.pc);

  window.peer = {
    // What this Chromium can send and receive (for the report: H.264 only where the build has it).
    capabilities() {
      const c = (k) => ({send: RTCRtpSender.getCapabilities(k).codecs.map((x) => x.mimeType + (x.sdpFmtpLine ? ' ' + x.sdpFmtpLine : '')),
                         recv: RTCRtpReceiver.getCapabilities(k).codecs.map((x) => x.mimeType + (x.sdpFmtpLine ? ' ' + x.sdpFmtpLine : ''))});
      return {video: c('video'), audio: c('audio')};
    },
    async start(role, opts) {
      st.role = role;
      st.opts = opts;
      await getMedia();
      const pc = new RTCPeerConnection();
      st.pc = pc;
      window.peerSignaling.wireLocal(pc, emit, state);
      pc.ondatachannel = (e) => wireChannel(e.channel);
      pc.ontrack = (e) => {
        note(`track ${e.track.kind} mid ${e.transceiver.mid} streams ${e.streams.map((s) => s.id).join(',')}`);
        sink(e.track);
      };
      if (role === 'offer') {
        addTransceivers();
        if (opts.data) wireChannel(pc.createDataChannel(opts.label, {ordered: true}));
        chain = chain.then(async () => {
          const offer = await pc.createOffer();
          await pc.setLocalDescription(offer);
          emit({t: 'sdp', type: 'offer', sdp: pc.localDescription.sdp});
        }).catch(fail('offer'));
      }
      return {video: st.local.video ? st.local.video.getSettings() : null,
              audio: st.local.audio ? st.local.audio.getSettings() : null};
    },
    input(lines) {
      for (const m of lines) chain = chain.then(() => onRemote(m)).catch(fail(`input ${m.t}`));
      return true;
    },
    take() {
      return {out: out.splice(0), log: log.splice(0), got: st.got, gotBytes: st.gotBytes,
              conn: st.pc ? st.pc.connectionState : null, errors: st.errors.slice()};
    },
    media,
    pair,
    stopSending,
    close() {
      for (const el of st.elements) { el.srcObject = null; el.remove(); }
      for (const t of Object.values(st.local)) if (t) t.stop();
      if (st.pc) st.pc.close();
      return true;
    },
  };
})();
