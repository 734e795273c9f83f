import NiceTestSupport
import Testing

/// The network suites skip where they cannot run (no root, no namespaces, no coturn), saying why.
/// In CI (scripts/test.sh as root sets NICE_REQUIRE_NETNS=1) such a skip is a failure: this test
/// records it as an issue, so a broken runner cannot turn the network tests into a silent pass.
@Suite("Network: prerequisites of the namespace suite")
struct NetworkPrerequisites {
    @Test("namespaces, iptables and coturn are usable (required under NICE_REQUIRE_NETNS=1)")
    func namespacesUsable() {
        guard let reason = NetworkLab.unavailableReason else { return }
        NetworkRequirement.announceSkip("NiceICE network suite", reason: reason)
        if NetworkRequirement.required {
            Issue.record("NICE_REQUIRE_NETNS is set but the NiceICE network suite cannot run: \(reason)")
        }
    }
}
