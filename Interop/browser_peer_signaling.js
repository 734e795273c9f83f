// What the browser pages share (Interop/chromium_dc_peer.js, Interop/chromium_media_peer.js; in
// Firefox through chromium_dc_peer.js): WebRTC-JSONL signaling on one RTCPeerConnection (local
// candidates and states out, the remote peer's sdp/cand/eoc in) and the selected candidate pair
// from the `transport` stats. Loaded before them (Chromium: installed first by the Python program;
// Firefox: a <script> before peer.js). Nothing here talks to anything but the RTCPeerConnection.
(() => {
  if (window.peerSignaling) return;

  // Local candidates (`cand`, `eoc`) and the ICE and connection states go out through emit/state.
  function wireLocal(pc, emit, state) {
    pc.onicecandidate = (e) => {
      if (!e.candidate) { emit({t: 'eoc'}); return; }
      if (!e.candidate.candidate) return;
      emit({t: 'cand', c: e.candidate.candidate, mid: e.candidate.sdpMid ?? '0'});
    };
    pc.oniceconnectionstatechange = () => state('ice', pc.iceConnectionState);
    pc.onconnectionstatechange = () => state('conn', pc.connectionState);
  }

  async function addRemoteCandidate(pc, m, note) {
    const init = {candidate: m.c};
    if (m.mid !== undefined && m.mid !== null) init.sdpMid = String(m.mid); else init.sdpMLineIndex = 0;
    try {
      await pc.addIceCandidate(init);
    } catch (e) {
      note(`remote candidate skipped (${e}): ${m.c}`);
    }
  }

  // The handler of one remote line, over st.pc / st.remoteSet / st.queued (candidates that came
  // before the remote description). beforeAnswer (optional, async) runs after an offer is applied
  // and before the answer is made.
  function remoteHandler(st, emit, note, beforeAnswer) {
    return async function onRemote(m) {
      if (m.t === 'sdp') {
        await st.pc.setRemoteDescription({type: m.type, sdp: m.sdp});
        st.remoteSet = true;
        if (m.type === 'offer') {
          if (beforeAnswer) await beforeAnswer();
          const answer = await st.pc.createAnswer();
          await st.pc.setLocalDescription(answer);
          emit({t: 'sdp', type: 'answer', sdp: st.pc.localDescription.sdp});
        }
        const q = st.queued; st.queued = [];
        for (const c of q) await addRemoteCandidate(st.pc, c, note);
      } else if (m.t === 'cand') {
        if (!st.remoteSet) st.queued.push(m); else await addRemoteCandidate(st.pc, m, note);
      } else if (m.t === 'eoc') {
        note('remote end of candidates');
      }
    };
  }

  // The selected pair's candidate types and addresses (null until there is one).
  async function selectedPair(pc) {
    if (!pc) return null;
    const r = await pc.getStats();
    let pairId = null; const byId = {};
    r.forEach((x) => { byId[x.id] = x; if (x.type === 'transport' && x.selectedCandidatePairId) pairId = x.selectedCandidatePairId; });
    const p = pairId && byId[pairId];
    if (!p) return null;
    const l = byId[p.localCandidateId], rm = byId[p.remoteCandidateId];
    return {local: l && l.candidateType, remote: rm && rm.candidateType,
            localAddress: l && `${l.address}:${l.port}`, remoteAddress: rm && `${rm.address}:${rm.port}`};
  }

  window.peerSignaling = {wireLocal, addRemoteCandidate, remoteHandler, selectedPair};
})();
