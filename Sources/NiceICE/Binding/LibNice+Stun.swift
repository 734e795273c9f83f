internal import CNice
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The C half of ``TurnProbe``: libnice's bundled STUN library (stun/stunagent.h, stunmessage.h,
// usages/turn.h) builds and checks the TURN messages, and plain POSIX sockets carry them. Every C
// call is a `static func` on ``LibNice``; ``TurnProbe`` holds the protocol logic.

/// The STUN state of one TURN probe: a libnice `StunAgent` and every buffer it points into.
///
/// libnice's STUN agent keeps raw pointers between calls: `StunAgent.known_attributes`, the
/// password of each sent request (`sent_ids[].key`), and the previous response a request copies
/// REALM/NONCE from. So everything lives in heap memory owned by this object, freed in `deinit`.
/// Not `Sendable`: one probe uses it on one thread.
final class TurnStunClient {
    /// The largest STUN message (20-byte header + 16-bit length).
    static let maxMessage = 20 + 65_535

    fileprivate let agent: UnsafeMutablePointer<StunAgent>
    fileprivate let knownAttributes: UnsafeMutableBufferPointer<UInt16>
    fileprivate let username: UnsafeMutableBufferPointer<UInt8>
    fileprivate let usernameLength: Int
    fileprivate let password: UnsafeMutableBufferPointer<UInt8>
    fileprivate let passwordLength: Int
    /// The request being built (the agent's `StunMessage` points here until the next request).
    fileprivate let request: UnsafeMutableRawBufferPointer
    /// The response being validated.
    fileprivate let response: UnsafeMutableRawBufferPointer
    /// The latest 401/438 response carrying REALM and NONCE (what authenticated requests answer).
    fileprivate let challenge: UnsafeMutableRawBufferPointer
    fileprivate var challengeLength = 0

    fileprivate init(username: String, password: String, knownAttributes: [UInt16]) {
        agent = .allocate(capacity: 1)
        agent.initialize(to: StunAgent())
        self.knownAttributes = .allocate(capacity: knownAttributes.count)
        _ = self.knownAttributes.initialize(from: knownAttributes)
        let user = Array(username.utf8)
        let pass = Array(password.utf8)
        // One extra 0 byte so the pointers handed to C are never null, even for an empty string.
        self.username = .allocate(capacity: user.count + 1)
        _ = self.username.initialize(from: user + [0])
        usernameLength = user.count
        self.password = .allocate(capacity: pass.count + 1)
        _ = self.password.initialize(from: pass + [0])
        passwordLength = pass.count
        request = .allocate(byteCount: Self.maxMessage, alignment: 8)
        response = .allocate(byteCount: Self.maxMessage, alignment: 8)
        challenge = .allocate(byteCount: Self.maxMessage, alignment: 8)
    }

    deinit {
        agent.deinitialize(count: 1)
        agent.deallocate()
        knownAttributes.deallocate()
        // Wipe the password before the memory goes back to the allocator.
        password.update(repeating: 0)
        password.deallocate()
        username.deallocate()
        request.deallocate()
        response.deallocate()
        challenge.deallocate()
    }

    /// Whether a challenge (REALM + NONCE) has been received.
    var hasChallenge: Bool { challengeLength > 0 }
}

/// A TURN response decoded by libnice's STUN library.
enum TurnReply: Sendable, Equatable {
    /// Allocate success; `relay` is the XOR-RELAYED-ADDRESS as "ip:port".
    case allocated(relay: String, lifetime: UInt32)
    /// Refresh success.
    case refreshed
    /// An error response. `challenge` is true when it carried REALM and NONCE (then it became the
    /// client's challenge for the next authenticated request).
    case error(code: Int, reason: String, challenge: Bool)
}

/// A connected UDP or TCP socket to a TURN server. Not `Sendable`: one probe, one thread.
extension LibNice {
    // MARK: STUN (libnice's stun/ library)

    /// A TURN client agent configured as libnice configures its own for RFC 5766 TURN
    /// (`agent.c`, `priv_add_new_candidate_discovery_turn`): RFC 5389 framing, long-term
    /// credentials, SOFTWARE attribute, no FINGERPRINT.
    static func stunTurnClient(username: String, password: String) -> TurnStunClient {
        // STUN_ALL_KNOWN_ATTRIBUTES is a `static const` array in stunmessage.h, imported as a tuple;
        // the agent keeps a pointer to it, so the client owns a copy (0-terminated, as in C).
        let known = withUnsafeBytes(of: STUN_ALL_KNOWN_ATTRIBUTES) { Array($0.bindMemory(to: UInt16.self)) }
        let client = TurnStunClient(username: username, password: password, knownAttributes: known)
        let flags = StunAgentUsageFlags(
            rawValue: STUN_AGENT_USAGE_ADD_SOFTWARE.rawValue | STUN_AGENT_USAGE_LONG_TERM_CREDENTIALS.rawValue)
        stun_agent_init(client.agent, client.knownAttributes.baseAddress, STUN_COMPATIBILITY_RFC5389, flags)
        return client
    }

    /// Builds an Allocate request (REQUESTED-TRANSPORT UDP). With `authenticated`, it carries
    /// USERNAME, REALM and NONCE from the client's challenge and MESSAGE-INTEGRITY keyed with
    /// MD5(username:realm:password) — libnice's `stun_usage_turn_create` does all of that when
    /// given the previous response. Returns nil if the message does not fit.
    ///
    /// Unlike libnice, the unauthenticated request is sent without a key: the agent would otherwise
    /// expect MESSAGE-INTEGRITY on its success response, and a server without authentication
    /// (which sends none) would look silent instead of "allocated".
    static func stunAllocateRequest(_ client: TurnStunClient, authenticated: Bool) -> [UInt8]? {
        let useChallenge = authenticated && client.hasChallenge
        return withChallenge(client, useChallenge) { message, previous in
            stun_usage_turn_create(
                client.agent, message, client.request.baseAddress?.assumingMemoryBound(to: UInt8.self),
                client.request.count, previous, STUN_USAGE_TURN_REQUEST_PORT_NORMAL, -1, -1,
                client.username.baseAddress, client.usernameLength,
                useChallenge ? client.password.baseAddress : nil, useChallenge ? client.passwordLength : 0,
                STUN_USAGE_TURN_COMPATIBILITY_RFC5766)
        }
    }

    /// Builds a Refresh request with LIFETIME 0, which deletes the allocation (RFC 5766 §7).
    /// Authenticated like the Allocate that succeeded (no key if the server never challenged).
    static func stunDeleteAllocationRequest(_ client: TurnStunClient) -> [UInt8]? {
        let useChallenge = client.hasChallenge
        return withChallenge(client, useChallenge) { message, previous in
            stun_usage_turn_create_refresh(
                client.agent, message, client.request.baseAddress?.assumingMemoryBound(to: UInt8.self),
                client.request.count, previous, 0,
                client.username.baseAddress, client.usernameLength,
                useChallenge ? client.password.baseAddress : nil, useChallenge ? client.passwordLength : 0,
                STUN_USAGE_TURN_COMPATIBILITY_RFC5766)
        }
    }

    /// Runs `build` with a fresh `StunMessage` and, if wanted and present, the challenge as the
    /// previous response; returns the built bytes.
    private static func withChallenge(
        _ client: TurnStunClient, _ authenticated: Bool,
        _ build: (UnsafeMutablePointer<StunMessage>, UnsafeMutablePointer<StunMessage>?) -> Int
    ) -> [UInt8]? {
        var message = StunMessage()
        var previous = StunMessage()
        previous.agent = client.agent
        previous.buffer = client.challenge.baseAddress?.assumingMemoryBound(to: UInt8.self)
        previous.buffer_len = client.challengeLength
        let length = withUnsafeMutablePointer(to: &message) { m in
            withUnsafeMutablePointer(to: &previous) { p in
                build(m, authenticated && client.hasChallenge ? p : nil)
            }
        }
        guard length > 0, length <= client.request.count else { return nil }
        return Array(UnsafeRawBufferPointer(rebasing: client.request[0..<length]))
    }

    /// Validates `bytes` as a response to one of the client's outstanding requests (transaction ID,
    /// and MESSAGE-INTEGRITY when the request was authenticated) and decodes it. Returns nil for
    /// anything else (not STUN, unknown transaction, failed integrity, not a TURN reply), which
    /// the caller ignores as a stray packet.
    static func stunDecodeTurnReply(_ client: TurnStunClient, _ bytes: [UInt8]) -> TurnReply? {
        guard bytes.count >= 20, bytes.count <= client.response.count,
            let base = client.response.baseAddress?.assumingMemoryBound(to: UInt8.self)
        else { return nil }
        client.response.copyBytes(from: bytes)
        var msg = StunMessage()
        let status = stun_agent_validate(client.agent, &msg, base, bytes.count, nil, nil)
        guard status == STUN_VALIDATION_SUCCESS || status == STUN_VALIDATION_UNKNOWN_ATTRIBUTE else {
            logger.debug("TURN probe: ignored STUN message (validation \(status.rawValue))")
            return nil
        }
        let method = stun_message_get_method(&msg)
        switch stun_message_get_class(&msg) {
        case STUN_ERROR:
            var code: Int32 = 0
            guard stun_message_find_error(&msg, &code) == STUN_MESSAGE_RETURN_SUCCESS else { return nil }
            let isChallenge =
                stun_message_has_attribute(&msg, STUN_ATTRIBUTE_REALM)
                && stun_message_has_attribute(&msg, STUN_ATTRIBUTE_NONCE)
            if isChallenge {
                client.challenge.copyBytes(from: bytes)
                client.challengeLength = bytes.count
            }
            return .error(code: Int(code), reason: errorReason(&msg), challenge: isChallenge)
        case STUN_RESPONSE where method == STUN_ALLOCATE:
            var relay = sockaddr_storage()
            var relayLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            var mapped = sockaddr_storage()
            var mappedLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            var alternate = sockaddr_storage()
            var alternateLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            var bandwidth: UInt32 = 0
            var lifetime: UInt32 = 0
            let result = stun_usage_turn_process(
                &msg, &relay, &relayLength, &mapped, &mappedLength, &alternate, &alternateLength,
                &bandwidth, &lifetime, STUN_USAGE_TURN_COMPATIBILITY_RFC5766)
            guard result == STUN_USAGE_TURN_RETURN_RELAY_SUCCESS || result == STUN_USAGE_TURN_RETURN_MAPPED_SUCCESS
            else {
                logger.debug("TURN probe: Allocate success without a relayed address ignored")
                return nil
            }
            return .allocated(relay: numericHost(&relay, relayLength) ?? "?", lifetime: lifetime)
        case STUN_RESPONSE where method == STUN_REFRESH:
            return .refreshed
        default:
            return nil
        }
    }

    /// The reason phrase of ERROR-CODE (RFC 5389 §15.6: 2 reserved bytes, class, number, then
    /// UTF-8 text), at most 128 characters, control characters dropped.
    private static func errorReason(_ msg: inout StunMessage) -> String {
        var length: UInt16 = 0
        guard let value = stun_message_find(&msg, STUN_ATTRIBUTE_ERROR_CODE, &length), length > 4 else { return "" }
        let bytes = UnsafeRawBufferPointer(start: value + 4, count: Int(length) - 4)
        let text = String(decoding: bytes, as: UTF8.self)
        return String(text.unicodeScalars.filter { $0.properties.generalCategory != .control }.map(Character.init).prefix(128))
            .trimmingSpaces()
    }

}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while scalars.first == " " { scalars.removeFirst() }
        while scalars.last == " " { scalars.removeLast() }
        return String(scalars)
    }
}
