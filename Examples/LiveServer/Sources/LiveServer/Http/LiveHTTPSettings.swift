// What the HTTP side is configured with, decided once from the command line.
import NiceWebRTC

/// The HTTP side's settings: authentication, origins, request limits and the ICE servers
/// announced in `Link` headers.
struct LiveHTTPSettings: Sendable {
    /// `--token`: the Bearer token WHIP and WHEP requests must carry; nil = open.
    var token: String?
    /// `--allow-origin`: origins besides the server's own whose pages may use the endpoints.
    var origins: OriginPolicy
    /// The STUN/TURN servers announced in each 201's `Link` headers. TURN credentials are only
    /// announced when ``token`` is set: on an open server anyone could read them (an open relay).
    var iceServers: [IceServer] = []
    /// `--request-rate` / `--request-burst`: POSTs and PATCHes per second per remote address (an
    /// IPv6 address by its /64), a token bucket; beyond, 429 with `Retry-After`.
    var requestRate: Double = 5
    var requestBurst: Int = 20
    /// The most remote addresses the rate limiter tracks at once; beyond (a flood from many
    /// addresses), a request from a new address gets 429 until buckets refill.
    var maxTrackedAddresses = 4096
    /// The largest request body read (an SDP offer with many candidates is ~10 KiB); beyond, 413.
    var maxBodyBytes = 65_536

    init(token: String? = nil, origins: OriginPolicy, iceServers: [IceServer] = []) {
        self.token = token
        self.origins = origins
        self.iceServers = iceServers
    }
}
