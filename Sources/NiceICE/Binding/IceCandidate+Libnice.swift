extension IceCandidate {
    /// The candidate in the form `nice_agent_parse_remote_candidate_sdp` reads: RFC 8839 fields
    /// only (libnice ignores extensions), transport spelled `UDP`/`TCP`, without the `a=` prefix.
    var libniceLine: String {
        var s = "candidate:\(foundation) \(component) \(transport == .udp ? "UDP" : "TCP") \(priority) \(address) \(port) typ \(type.rawValue)"
        if let relatedAddress, let relatedPort { s += " raddr \(relatedAddress) rport \(relatedPort)" }
        if transport == .tcp { s += " tcptype \((tcpType ?? .passive).rawValue)" }
        return s
    }
}
