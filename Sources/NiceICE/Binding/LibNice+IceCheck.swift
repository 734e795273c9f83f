internal import CNice

extension LibNice {
    /// Builds an RFC 8445 connectivity check (a STUN Binding request with USERNAME, PRIORITY,
    /// ICE-CONTROLLING/-CONTROLLED, MESSAGE-INTEGRITY keyed with `password`, FINGERPRINT) as a
    /// remote agent would send it, with libnice's own STUN library and the agent flags libnice
    /// uses for its checks (`agent.c`: RFC 5389, short-term credentials, FINGERPRINT).
    ///
    /// Used by tests that play a hostile peer which knows the credentials (security review F6:
    /// authenticated checks from many source ports). Returns nil if the message does not fit.
    ///
    /// - Parameters:
    ///   - username: `"<receiver's ufrag>:<sender's ufrag>"` (RFC 8445 §7.2.2).
    ///   - password: The receiver's password.
    static func iceConnectivityCheck(username: String, password: String, controlling: Bool, priority: UInt32) -> [UInt8]? {
        let known = withUnsafeBytes(of: STUN_ALL_KNOWN_ATTRIBUTES) { Array($0.bindMemory(to: UInt16.self)) }
        let user = Array(username.utf8) + [0]
        let key = Array(password.utf8) + [0]
        var buffer = [UInt8](repeating: 0, count: 1280)
        let length = known.withUnsafeBufferPointer { attributes in
            user.withUnsafeBufferPointer { u in
                key.withUnsafeBufferPointer { k in
                    buffer.withUnsafeMutableBufferPointer { out in
                        var agent = StunAgent()
                        var message = StunMessage()
                        let flags = StunAgentUsageFlags(
                            rawValue: STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS.rawValue | STUN_AGENT_USAGE_USE_FINGERPRINT.rawValue)
                        stun_agent_init(&agent, attributes.baseAddress, STUN_COMPATIBILITY_RFC5389, flags)
                        return stun_usage_ice_conncheck_create(
                            &agent, &message, out.baseAddress, out.count,
                            u.baseAddress, u.count - 1, k.baseAddress, k.count - 1,
                            false, controlling, priority, UInt64.random(in: 1...UInt64.max), UnsafePointer<CChar>?.none,
                            STUN_USAGE_ICE_COMPATIBILITY_RFC5245)
                    }
                }
            }
        }
        guard length > 0, length <= buffer.count else { return nil }
        return Array(buffer[0..<length])
    }
}
