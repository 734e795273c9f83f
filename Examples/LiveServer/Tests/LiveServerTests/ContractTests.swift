import Testing
@testable import LiveServer

@Suite("Contract")
struct ContractTests {
    @Test(.timeLimit(.minutes(1)))
    func rolesNameTheirPaths() {
        #expect(LiveRole.publisher.rawValue == "whip")
        #expect(LiveRole.viewer.rawValue == "whep")
    }
}
