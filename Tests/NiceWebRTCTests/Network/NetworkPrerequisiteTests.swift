import NiceTestSupport
import Testing

/// The lossy-link suites (DTLS, data channels) skip where they cannot run, saying why. In CI
/// (scripts/test.sh as root sets NICE_REQUIRE_NETNS=1) such a skip is a failure: this test records
/// it as an issue.
@Suite("Network: prerequisites of the lossy-link suites")
struct LossyLinkNetworkPrerequisites {
    @Test("namespaces and iptables are usable (required under NICE_REQUIRE_NETNS=1)")
    func namespacesUsable() {
        guard let reason = LossyLink.unavailableReason else { return }
        NetworkRequirement.announceSkip("NiceWebRTC lossy-link suites", reason: reason)
        if NetworkRequirement.required {
            Issue.record("NICE_REQUIRE_NETNS is set but the lossy-link suites cannot run: \(reason)")
        }
    }
}
