// The watch page (/watch/{stream}[?token=…]): a WHEP viewer (recvonly audio + video) shown in one
// muted <video>, with live stats from getStats every 500 ms. It starts on load; window.live has
// the state, the counters (framesDecoded, fps, resolution, bitrate, packetsLost, audio samples,
// firstFrameMs: WHEP POST → first frame shown), restartIce(), stop() and start().
'use strict';

(function () {
  const { $, query, STREAM_RE, log, pill, pillClass, fmtBits, showStats, makeLive } = window.LivePage;
  const live = makeLive('viewer');
  const parts = location.pathname.split('/').filter(Boolean);
  const stream = decodeURIComponent(parts[0] === 'watch' && parts[1] ? parts[1] : (query.get('stream') || ''));
  const token = query.get('token') || null;
  live.stream = stream;
  $('stream-name').textContent = stream || '(none)';
  document.title = `watching ${stream} · NiceWebRTC live`;
  const video = $('video');
  let pc = null, timer = null, prev = null, tPost = null;

  function setState(s) {
    live.state = s;
    pill(s, pillClass(s));
    $('restart').disabled = s !== 'connected' && s !== 'disconnected';
    $('stop').disabled = ['idle', 'stopped', 'error', 'closed'].includes(s);
    $('start').disabled = !['idle', 'stopped', 'error', 'closed', 'failed'].includes(s);
  }

  function fail(e) {
    const msg = String(e && e.message || e);
    live.errors.push(msg);
    if (e && e.status) live.httpStatus = e.status;
    log('err', msg);
    setState('error');
    $('error').textContent = e && e.status === 401 ? 'This stream needs a token: open the page with ?token=…'
      : e && e.status === 403 ? 'Wrong token.' : e && e.status === 404 ? `No one is publishing “${stream}” (yet).` : msg;
    $('error').hidden = false;
  }

  function firstFrame(source) {
    if (live.counters.firstFrameMs != null || tPost == null) return;
    live.counters.firstFrameMs = Math.round(performance.now() - tPost);
    live.counters.firstFrameBy = source;
    log('note', `first frame ${live.counters.firstFrameMs} ms after the WHEP POST (${source})`);
  }

  // Every inbound-rtp stream seen, by stats id (kind + SSRC), with its counters made cumulative:
  // a stream whose SSRC changes is a new stats object, and Chromium recreates its receive streams
  // when the answer is set again (an ICE restart: same SSRC, counters back to 0). A counter that
  // goes down adds its last value to that stream's base; the page shows base + current, summed.
  let inbound = new Map();
  const SUMMED = ['framesDecoded', 'framesReceived', 'framesDropped', 'keyFramesDecoded', 'packetsReceived',
    'packetsLost', 'bytesReceived', 'nackCount', 'pliCount', 'freezeCount', 'totalSamplesReceived'];
  const sum = (kind, k) => { let n = 0; for (const x of inbound.values()) if (x.kind === kind) n += x[k] || 0; return n; };

  async function poll() {
    if (!pc) return;
    let report;
    try { report = await pc.getStats(); } catch (e) { return; }
    let v = null, a = null, pair = null;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && (s.kind === 'video' || s.kind === 'audio')) {
        const old = inbound.get(s.id);
        const x = { kind: s.kind, ssrc: s.ssrc, base: old ? old.base : {}, last: {} };
        // packetsReceived and bytesReceived only grow (packetsLost may go down: duplicates)
        const reset = !!old && ((s.packetsReceived || 0) < (old.last.packetsReceived || 0) || (s.bytesReceived || 0) < (old.last.bytesReceived || 0));
        for (const k of SUMMED) x.last[k] = s[k] || 0;
        if (reset) {
          for (const k of SUMMED) x.base[k] = (x.base[k] || 0) + (old.last[k] || 0);
          live.counters.statsResets = (live.counters.statsResets || 0) + 1;
          log('note', `${s.kind} inbound-rtp (SSRC ${s.ssrc}) counters restarted from 0 (a re-negotiation): kept cumulative`);
        }
        for (const k of SUMMED) x[k] = (x.base[k] || 0) + x.last[k];
        inbound.set(s.id, x);
        // the current one: the stream that received last
        if (s.kind === 'video' && (!v || (s.lastPacketReceivedTimestamp || 0) >= (v.lastPacketReceivedTimestamp || 0))) v = s;
        if (s.kind === 'audio' && (!a || (s.lastPacketReceivedTimestamp || 0) >= (a.lastPacketReceivedTimestamp || 0))) a = s;
      }
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
    });
    const now = performance.now();
    const c = live.counters;
    c.videoSsrcs = [...inbound.values()].filter((x) => x.kind === 'video').map((x) => x.ssrc);
    c.audioSsrcs = [...inbound.values()].filter((x) => x.kind === 'audio').map((x) => x.ssrc);
    if (v) {
      c.framesDecoded = sum('video', 'framesDecoded');
      c.framesReceived = sum('video', 'framesReceived');
      c.framesDropped = sum('video', 'framesDropped');
      c.keyFramesDecoded = sum('video', 'keyFramesDecoded');
      c.width = v.frameWidth || null;
      c.height = v.frameHeight || null;
      c.fps = v.framesPerSecond || 0;
      c.videoPackets = sum('video', 'packetsReceived');
      c.videoLost = sum('video', 'packetsLost');
      c.videoBytes = sum('video', 'bytesReceived');
      c.nacks = sum('video', 'nackCount');
      c.plis = sum('video', 'pliCount');
      c.freezes = sum('video', 'freezeCount');
      if (c.framesDecoded > 0) firstFrame('getStats');
    }
    if (a) {
      c.audioSamples = sum('audio', 'totalSamplesReceived');
      c.audioPackets = sum('audio', 'packetsReceived');
      c.audioLost = sum('audio', 'packetsLost');
      c.audioBytes = sum('audio', 'bytesReceived');
      if (c.audioSamples > 0 && c.firstAudioMs == null && tPost != null) c.firstAudioMs = Math.round(now - tPost);
    }
    c.packetsLost = (c.videoLost || 0) + (c.audioLost || 0);
    const bytes = (c.videoBytes || 0) + (c.audioBytes || 0);
    if (prev && now > prev.t) c.bitrate = Math.round((bytes - prev.bytes) * 8000 / (now - prev.t));
    prev = { t: now, bytes };
    if (pair) c.pair = `${pair.localCandidateId} ↔ ${pair.remoteCandidateId}`;
    const tracks = pc.getReceivers().map((r) => r.track).filter(Boolean);
    c.tracks = tracks.map((t) => `${t.kind}:${t.readyState}${t.muted ? ',muted' : ''}`).join(' ');
    showStats([
      ['state', `${live.state} (ice ${live.ice})`],
      ['resolution', c.width ? `${c.width}×${c.height}` : null],
      ['framesDecoded', c.framesDecoded],
      ['fps', c.fps],
      ['bitrate', fmtBits(c.bitrate)],
      ['packetsLost', c.packetsLost],
      ['audio samples', c.audioSamples],
      ['keyframes', c.keyFramesDecoded],
      ['NACKs / PLIs sent', v ? `${c.nacks} / ${c.plis}` : null],
      ['first frame', c.firstFrameMs != null ? `${c.firstFrameMs} ms after POST` : null],
      ['tracks', c.tracks],
      ['SSRCs', c.videoSsrcs ? `video ${c.videoSsrcs.join(', ')}; audio ${(c.audioSsrcs || []).join(', ')}` : null],
      ['ICE restarts', live.client ? live.client.counters.restarts : 0],
    ]);
  }

  async function start() {
    $('error').hidden = true;
    if (!STREAM_RE.test(stream)) { fail(new Error(`not a stream name: “${stream}” ([A-Za-z0-9_-], 1–64)`)); return; }
    live.counters = {};
    inbound = new Map();
    prev = null;
    pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    // srcObject only once a track is there: a media element with an empty stream delays the
    // document's load event for good (HTML: the delaying-the-load-event flag), e.g. after a 401
    const ms = new MediaStream();
    video.srcObject = null;
    pc.ontrack = (e) => {
      ms.addTrack(e.track);
      if (!video.srcObject) { video.srcObject = ms; watchFirstFrame(); }
      log('note', `track ${e.track.kind}`);
      e.track.onmute = () => log('note', `${e.track.kind} track muted (no packets)`);
      e.track.onunmute = () => log('note', `${e.track.kind} track unmuted`);
      e.track.onended = () => log('note', `${e.track.kind} track ended`);
    };
    pc.oniceconnectionstatechange = () => { live.ice = pc.iceConnectionState; };
    pc.onconnectionstatechange = () => {
      log('note', `connection ${pc.connectionState}`);
      if (live.state !== 'stopped') setState(pc.connectionState);
    };
    const client = new window.WhipWhep.Client(pc, { endpoint: `/whep/${encodeURIComponent(stream)}`, token, log });
    live.client = client;
    setState('connecting');
    tPost = performance.now();
    clearInterval(timer);
    timer = setInterval(poll, 500);
    try {
      await client.start();
    } catch (e) {
      clearInterval(timer);
      pc.close();
      fail(e);
    }
  }

  // the first frame shown, as exactly as the page can tell
  function watchFirstFrame() {
    if ('requestVideoFrameCallback' in HTMLVideoElement.prototype) video.requestVideoFrameCallback(() => firstFrame('requestVideoFrameCallback'));
  }
  video.addEventListener('resize', () => log('note', `video ${video.videoWidth}×${video.videoHeight}`));

  live.start = start;
  live.restartIce = async () => {
    const r = await live.client.restartIce();
    log('note', `ICE restart: ufrag ${r.localUfrag}, server ufrag ${r.serverUfrag}`);
    return r;
  };
  live.stop = async () => {
    setState('stopped');
    clearInterval(timer);
    await poll();
    return live.client ? live.client.stop() : null;
  };
  live.poll = poll;

  $('start').onclick = () => start();
  $('stop').onclick = () => live.stop();
  $('restart').onclick = () => live.restartIce().catch((e) => log('err', String(e.message || e)));
  $('unmute').onclick = () => { video.muted = !video.muted; $('unmute').textContent = video.muted ? 'Unmute' : 'Mute'; video.play().catch(() => {}); };
  setState('idle');
  start();
})();
