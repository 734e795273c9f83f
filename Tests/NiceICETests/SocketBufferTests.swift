import Foundation
import Testing

@testable import NiceICE

/// `receiveSocketBufferSize`: the selected pair's socket gets the kernel receive buffer asked for
/// (capped by `net.core.rmem_max`), over real libnice agents.
@Suite("Selected socket's receive buffer", .timeLimit(.minutes(1)))
struct SocketBufferTests {
    /// `net.core.rmem_max`, the kernel's cap for an unprivileged `SO_RCVBUF`.
    static var rmemMax: Int {
        Int(readProcFile("/proc/sys/net/core/rmem_max").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 212_992
    }

    @Test("The selected pair's socket gets the buffer asked for (the kernel doubles it, capped at rmem_max); nil keeps the default")
    func appliedOnSelection() async throws {
        var left = Loopback.configuration(.controlling)
        left.receiveSocketBufferSize = 512 << 10
        var right = Loopback.configuration(.controlled)
        right.receiveSocketBufferSize = nil
        let pair = try Loopback(left: left, right: right)
        try pair.start()
        #expect(await pair.left.waitForState(.completed))
        #expect(await pair.right.waitForState(.completed))
        let expected = 2 * min(512 << 10, Self.rmemMax)
        // Applied by a job after the selection: poll it (bounded) rather than race it.
        var granted: Int?
        let deadline = ContinuousClock.now + .seconds(5)
        repeat {
            granted = await pair.left.pc.core.selectedReceiveBuffer(component: 1)
            if granted == expected { break }
            try await Task.sleep(for: .milliseconds(10))
        } while ContinuousClock.now < deadline
        #expect(granted == expected, "asked 512 KiB, rmem_max \(Self.rmemMax)")
        let defaultSize = Int(readProcFile("/proc/sys/net/core/rmem_default").trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        let untouched = await pair.right.pc.core.selectedReceiveBuffer(component: 1)
        #expect(untouched == defaultSize, "nil changed the socket's buffer")
        await pair.closeBoth()
    }

    @Test("An out-of-range size is a typed configuration error naming the field")
    func rejectsBadSizes() {
        for size in [0, 4095, (256 << 20) + 1, -1] {
            var c = Loopback.configuration(.controlling)
            c.receiveSocketBufferSize = size
            #expect {
                _ = try IceTransport(configuration: c)
            } throws: { error in
                (error as? IceError)?.code == .invalidConfiguration && (error as? IceError)?.field == "receiveSocketBufferSize"
            }
        }
    }
}
