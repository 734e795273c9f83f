// The media side at a glance (Sources/LiveServer/Media/): files, and the policies a user of
// the server should know. Comments only.
//
// # LiveServer media side (`Sources/LiveServer/Media/`)
//
// `LiveStreams` implements `LiveSessionHost` (Contract.swift): every PeerConnection of the server.
//
// | File | What |
// | --- | --- |
// | `LiveStreams.swift` | the registry (streams by name, sessions by 128-bit id, one lock), publish / watch / trickle / restartIce / end / shutdown, limits |
// | `LiveStream.swift` | one stream: its `LocalTrack`s (one per kind), forwarding, keyframe requests; the publisher-restart and slow-viewer policies (below) |
// | `LiveSession.swift` | one WHIP/WHEP session (its PeerConnection, stats baseline) |
// | `OfferCheck.swift` | WHIP / WHEP offer checks before any PeerConnection (`.badRequest` naming the field, `.unprocessable`) |
// | `SdpEditing.swift`, `Gathering.swift` | candidates into answers, an ICE restart's new remote offer |
// | `RestartEndOfCandidates.swift` | a restarted ICE generation's end-of-candidates held until that generation selects a pair (libnice would otherwise fail the session while the browser still uses the previous pair) |
// | `TimestampRebaser.swift`, `KeyframeGate.swift` | the pure parts (unit-tested) |
// | `StreamRecorder.swift` | `--record`: VP8 → `{stream}-{yyyyMMdd-HHmmss}.ivf`, Opus → `.ogg` |
// | `LiveMetrics.swift`, `LiveStreams+Stats.swift` | the Prometheus metrics, the 2 s stats poller |
//
// ## Policies
//
// - **Codecs forwarded**: VP8, H.264 (video), Opus (audio). A stream's track of a kind has the
//   codec its first publisher negotiated (the first the answer kept); a later publisher must send the
//   same codec while viewers are watching (else 422); packets of other payload types are not forwarded.
// - **Publisher leaves**: viewers stay connected and keep their tracks; nothing is written, so the
//   video freezes on its last frame and audio is silent until the next publisher of the stream,
//   which writes into the same tracks: each viewer's SSRC, sequence numbers (the library numbers
//   per sender) and RTP timestamps (`TimestampRebaser`: last + wall-clock gap) go on. A viewer may
//   join between publishers. The stream is gone (404 for new viewers) once it has neither
//   publisher nor viewer.
// - **Keyframes**: viewers' PLI/FIR (`LocalTrack.keyframeRequests()`, the library already limits
//   each viewer to one per 500 ms) and each viewer becoming connected ask the publisher's video via
//   `KeyframeGate` (one per 600 ms per stream: the publisher's side drops a second request inside
//   500 ms of *its* arrival times, so 100 ms absorb jitter; a request inside the interval is sent at its end, so
//   a joining viewer's first keyframe is asked for within one interval).
// - **Slow viewers / drops**: `LocalTrack.write` never blocks and nothing queues per viewer in the
//   server: each packet is rewritten and handed to each viewer's SRTP + ICE socket at once. A viewer
//   whose path cannot keep up loses datagrams at its own socket (send buffer full: libnice refuses
//   and the datagram is dropped, as UDP would) and recovers by NACK (the library answers from the
//   sender's history) or keyframe request; the publisher and other viewers are not slowed.
//   `live_viewer_dropped_packets_total{stream}` = the viewers' `IceTransport.counters.datagramsDropped`
//   growth + the publisher track reader's `RemoteTrack.droppedPackets` (forwarding behind its
//   1,024-packet buffer). The library has no per-viewer send queue depth to export; a per-binding
//   "writes refused by the socket" counter (`MediaSession.counters.sendFailures` is package-internal)
//   would split the drop count by kind.
// - **Recording**: in memory (at most 256 MiB per kind), written when the publisher ends; H.264 is
//   not recorded.
// - **Metrics**: `live_sessions{role}`, `live_viewers{stream}`, `live_bytes_in_total{stream,kind}`
//   (forwarded payload bytes), `live_bytes_out_total{stream,kind}` (viewers' outbound-rtp
//   bytesSent), `live_packets_lost_total{stream}` (publisher inbound + viewers' remote-inbound),
//   `live_nacks_total{stream}`, `live_keyframe_requests_total{stream,from=viewers|server}`,
//   `live_viewer_dropped_packets_total{stream}`; the stats ones are polled every 2 s.
