// The publish page (/?stream=…&token=…[&autostart=1]): the camera and microphone (getUserMedia;
// the fake devices in tests) published over WHIP with sendonly transceivers, a preview, and live
// stats from getStats every 500 ms. window.live: state, counters (framesEncoded, fps, resolution,
// bitrate, keyframes, PLIs/NACKs received, audio packets), start(), restartIce(), stop().
'use strict';

(function () {
  const { $, query, STREAM_RE, log, pill, pillClass, fmtBits, showStats, makeLive } = window.LivePage;
  const live = makeLive('publisher');
  const token = query.get('token') || null;
  const preview = $('preview');
  $('stream').value = query.get('stream') || 'live';
  let pc = null, media = null, timer = null, prev = null;

  function setState(s) {
    live.state = s;
    pill(s, pillClass(s));
    const idle = ['idle', 'stopped', 'error', 'closed', 'failed'].includes(s);
    $('start').disabled = !idle;
    $('stream').disabled = !idle;
    $('stop').disabled = idle && s !== 'failed';
    $('restart').disabled = s !== 'connected' && s !== 'disconnected';
  }

  function watchLink() {
    const name = $('stream').value.trim();
    const url = `/watch/${encodeURIComponent(name)}${token ? '?token=' + encodeURIComponent(token) : ''}`;
    const a = $('watch-link');
    a.href = url;
    a.textContent = new URL(url, location.href).href.replace(/token=[^&]*/, 'token=…');
  }

  function fail(e) {
    const msg = String(e && e.message || e);
    live.errors.push(msg);
    if (e && e.status) live.httpStatus = e.status;
    log('err', msg);
    setState('error');
    $('error').textContent = e && e.status === 401 ? 'This server needs a token: open the page with ?token=…'
      : e && e.status === 403 ? 'Wrong token.' : e && e.status === 409 ? 'Someone is already publishing this stream.' : msg;
    $('error').hidden = false;
  }

  async function poll() {
    if (!pc) return;
    let report;
    try { report = await pc.getStats(); } catch (e) { return; }
    let v = null, a = null;
    report.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video' && (!v || (s.bytesSent || 0) > (v.bytesSent || 0))) v = s;
      if (s.type === 'outbound-rtp' && s.kind === 'audio') a = s;
    });
    const now = performance.now();
    const c = live.counters;
    if (v) {
      c.framesEncoded = v.framesEncoded || 0;
      c.framesSent = v.framesSent || 0;
      c.keyFramesEncoded = v.keyFramesEncoded || 0;
      c.width = v.frameWidth || null;
      c.height = v.frameHeight || null;
      c.fps = v.framesPerSecond || 0;
      c.videoPackets = v.packetsSent || 0;
      c.videoBytes = v.bytesSent || 0;
      c.plis = v.pliCount || 0;
      c.firs = v.firCount || 0;
      c.nacks = v.nackCount || 0;
      c.retransmitted = v.retransmittedPacketsSent || 0;
      c.limitation = v.qualityLimitationReason || null;
    }
    if (a) {
      c.audioPackets = a.packetsSent || 0;
      c.audioBytes = a.bytesSent || 0;
    }
    const bytes = (c.videoBytes || 0) + (c.audioBytes || 0);
    if (prev && now > prev.t) c.bitrate = Math.round((bytes - prev.bytes) * 8000 / (now - prev.t));
    prev = { t: now, bytes };
    showStats([
      ['state', `${live.state} (ice ${live.ice})`],
      ['resolution', c.width ? `${c.width}×${c.height}` : null],
      ['framesEncoded', c.framesEncoded],
      ['fps', c.fps],
      ['bitrate', fmtBits(c.bitrate)],
      ['keyframes', c.keyFramesEncoded],
      ['PLIs / NACKs received', v ? `${c.plis} / ${c.nacks}` : null],
      ['retransmitted', c.retransmitted],
      ['audio packets', c.audioPackets],
      ['limited by', c.limitation],
      ['ICE restarts', live.client ? live.client.counters.restarts : 0],
    ]);
  }

  async function start() {
    $('error').hidden = true;
    const stream = $('stream').value.trim();
    live.stream = stream;
    if (!STREAM_RE.test(stream)) { fail(new Error(`not a stream name: “${stream}” ([A-Za-z0-9_-], 1–64)`)); return; }
    history.replaceState(null, '', `?stream=${encodeURIComponent(stream)}${token ? '&token=' + encodeURIComponent(token) : ''}`);
    watchLink();
    live.counters = {};
    prev = null;
    setState('connecting');
    try {
      if (!navigator.mediaDevices) throw new Error('no navigator.mediaDevices: camera access needs https or http://localhost');
      if (!media) {
        media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480, frameRate: 30 }, audio: true });
        preview.srcObject = media;
        for (const t of media.getTracks()) log('note', `${t.kind}: ${t.label}`);
      }
      pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
      for (const t of media.getTracks()) pc.addTransceiver(t, { direction: 'sendonly', streams: [media] });
      pc.oniceconnectionstatechange = () => { live.ice = pc.iceConnectionState; };
      pc.onconnectionstatechange = () => {
        log('note', `connection ${pc.connectionState}`);
        if (live.state !== 'stopped') setState(pc.connectionState);
      };
      const client = new window.WhipWhep.Client(pc, { endpoint: `/whip/${encodeURIComponent(stream)}`, token, log });
      live.client = client;
      clearInterval(timer);
      timer = setInterval(poll, 500);
      await client.start();
    } catch (e) {
      clearInterval(timer);
      if (pc) pc.close();
      fail(e);
    }
  }

  live.start = start;
  live.restartIce = async () => {
    const r = await live.client.restartIce();
    log('note', `ICE restart: ufrag ${r.localUfrag}, server ufrag ${r.serverUfrag}`);
    return r;
  };
  /** DELETE the session; the camera stays open for the next start() (release: stop({release: true})). */
  live.stop = async (opts = {}) => {
    setState('stopped');
    clearInterval(timer);
    await poll();
    const status = live.client ? await live.client.stop() : null;
    if (opts.release && media) { for (const t of media.getTracks()) t.stop(); media = null; preview.srcObject = null; }
    return status;
  };
  live.poll = poll;

  $('start').onclick = () => start();
  $('stop').onclick = () => live.stop();
  $('restart').onclick = () => live.restartIce().catch((e) => log('err', String(e.message || e)));
  $('stream').oninput = watchLink;
  setState('idle');
  watchLink();
  if (query.get('autostart') === '1') start();
})();
