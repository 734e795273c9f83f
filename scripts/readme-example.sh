#!/usr/bin/env bash
# Builds the README's "Fifteen lines" exactly as written as a program, in a fresh package that
# depends on this one by path (as a user's server would), runs it (two PeerConnections on
# 127.0.0.1, one message) and checks what it printed; compiles "Answering a browser" against a stub
# `Signalling` protocol; compiles "ICE alone" with stubs for the user's `offer` and `signalling`; the
# first Swift block of "Secure transport" (NiceWebRTC) the same way, with stubs for `pc` and the SDP
# texts, and the first Swift block of "Data channels" (the echo server) with stubs for the offer and
# the signalling channel. Also
# reports how many -pthread warnings a dependent sees (see README, "A quiet build").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.build-readme-example"
rm -rf "$dir/Sources"
mkdir -p "$dir/Sources/Example" "$dir/Sources/DtlsExample" "$dir/Sources/DataChannelExample" \
    "$dir/Sources/PeerConnectionExample" "$dir/Sources/BrowserAnswerExample" "$dir/Sources/MediaExample"
# SwiftPM names a path dependency after its folder: reach the checkout as "swift-nice".
ln -sfn "$root" "$dir/swift-nice"
cat >"$dir/Package.swift" <<SWIFT
// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "readme-example",
    dependencies: [.package(path: "$dir/swift-nice")],
    targets: [
        .executableTarget(name: "Example", dependencies: [.product(name: "NiceICE", package: "swift-nice")]),
        .executableTarget(name: "DtlsExample", dependencies: [.product(name: "NiceWebRTC", package: "swift-nice")]),
        .executableTarget(name: "DataChannelExample", dependencies: [.product(name: "NiceWebRTC", package: "swift-nice")]),
        .executableTarget(name: "PeerConnectionExample", dependencies: [.product(name: "NiceWebRTC", package: "swift-nice")]),
        .executableTarget(name: "BrowserAnswerExample", dependencies: [.product(name: "NiceWebRTC", package: "swift-nice")]),
        .executableTarget(name: "MediaExample", dependencies: [.product(name: "NiceWebRTC", package: "swift-nice")]),
    ]
)
SWIFT
cat >"$dir/Sources/Example/Stubs.swift" <<'SWIFT'
import NiceICE

/// What the user's signalling channel delivered: the ICE part of the browser's offer.
struct Offer: Sendable {
    var parameters = IceParameters(usernameFragment: "abcd", password: "0123456789abcdefghijkl")
    var candidates: [String] = []
}
let offer = Offer()

/// The user's signalling channel.
actor Signalling {
    func send(_ line: String) {}
    func send(_ parameters: IceParameters) {}
}
let signalling = Signalling()
SWIFT
# The code block right after the "## ICE alone" heading, verbatim.
awk '/^## ICE alone/{f=1} f&&/^```swift/{c=1;next} c&&/^```/{exit} c{print}' "$root/README.md" >"$dir/Sources/Example/main.swift"
[[ -s "$dir/Sources/Example/main.swift" ]] || { echo "FAIL: no Swift block under '## ICE alone'" >&2; exit 1; }
# "## Fifteen lines": a whole program, no stubs; at most 15 lines besides the import.
awk '/^## Fifteen lines/{f=1} f&&/^```swift/{c=1;next} c&&/^```/{exit} c{print}' "$root/README.md" >"$dir/Sources/PeerConnectionExample/main.swift"
[[ -s "$dir/Sources/PeerConnectionExample/main.swift" ]] || { echo "FAIL: no Swift block under '## Fifteen lines'" >&2; exit 1; }
lines=$(grep -cvE '^\s*$|^import ' "$dir/Sources/PeerConnectionExample/main.swift")
[[ "$lines" -le 15 ]] || { echo "FAIL: '## Fifteen lines' has $lines lines" >&2; exit 1; }
# "## Answering a browser": the function, with the user's signalling channel as a stub protocol.
cat >"$dir/Sources/BrowserAnswerExample/Stubs.swift" <<'SWIFT'
import NiceWebRTC

/// The user's signalling channel to the page.
protocol Signalling: Sendable {
    func offer() async -> SessionDescription
    func send(_ description: SessionDescription) async
    func send(_ candidate: IceCandidateInit?) async
    func candidates() -> AsyncStream<IceCandidateInit?>
}
SWIFT
awk '/^## Answering a browser/{f=1} f&&/^```swift/{c=1;next} c&&/^```/{exit} c{print}' "$root/README.md" >"$dir/Sources/BrowserAnswerExample/Answer.swift"
[[ -s "$dir/Sources/BrowserAnswerExample/Answer.swift" ]] || { echo "FAIL: no Swift block under '## Answering a browser'" >&2; exit 1; }
echo 'print("compiled")' >"$dir/Sources/BrowserAnswerExample/main.swift"
cat >"$dir/Sources/DtlsExample/Stubs.swift" <<'SWIFT'
import NiceWebRTC

/// The user's ICE connection, and the SDP texts of their signalling.
let pc = try! IceTransport(configuration: .init(role: .controlled, localAddresses: ["127.0.0.1"]))
let offerSDP = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\na=setup:actpass\r\n"
nonisolated(unsafe) var answerSDP = ""
SWIFT
awk '/^## Secure transport/{f=1} f&&/^```swift/{c=1;next} c&&/^```/{exit} c{print}' "$root/README.md" >"$dir/Sources/DtlsExample/main.swift"
[[ -s "$dir/Sources/DtlsExample/main.swift" ]] || { echo "FAIL: no Swift block under '## Secure transport'" >&2; exit 1; }
cat >"$dir/Sources/DataChannelExample/Stubs.swift" <<'SWIFT'
import NiceWebRTC

/// The browser's offer, and the user's signalling channel.
let offerSDP = "v=0\r\n"
actor Signalling {
    func send(_ text: String) {}
}
let signalling = Signalling()
SWIFT
awk '/^## Data channels/{f=1} f&&/^```swift/{c=1;next} c&&/^```/{exit} c{print}' "$root/README.md" >"$dir/Sources/DataChannelExample/main.swift"
[[ -s "$dir/Sources/DataChannelExample/main.swift" ]] || { echo "FAIL: no Swift block under '## Data channels'" >&2; exit 1; }
# "## Media": the block inside a function whose parameters are the stubs (a PeerConnection, a
# packet to write, where received packets go).
{
    echo 'import NiceWebRTC'
    echo 'func media(pc: PeerConnection, packet: RtpPacket, forward: @escaping @Sendable (RtpPacket) -> Void) throws {'
    awk '/^## Media/{f=1} f&&/^```swift/{c=1;next} c&&/^```/{exit} c{print}' "$root/README.md"
    echo '}'
    echo 'print(media)'
} >"$dir/Sources/MediaExample/main.swift"
grep -q LocalTrack "$dir/Sources/MediaExample/main.swift" || { echo "FAIL: no Swift block under '## Media'" >&2; exit 1; }
cd "$dir"
log=$(mktemp)
if ! swift build 2>&1 | tee "$log" | grep -E "error|warning: [^p]"; then :; fi
grep -q "Compiling\|Build complete" "$log" || true
if grep -qE "error:" "$log"; then echo "FAIL: the README example does not compile" >&2; exit 1; fi
if grep -E "warning:" "$log" | grep -v "prohibited flag" | grep -q .; then echo "FAIL: the README example compiles with warnings" >&2; exit 1; fi
echo "README examples compile; -pthread warnings seen by a dependent: $(grep -c 'prohibited flag' "$log" || true)"
rm -f "$log"
# Run "Fifteen lines" (bounded: 60 s) and check it delivered the message and exited cleanly.
out=$(timeout 60 "$(swift build --show-bin-path)/PeerConnectionExample" 2>&1) || { echo "FAIL: the Fifteen lines program exited with $? : $out" >&2; exit 1; }
grep -q "b got .*hello" <<<"$out" || { echo "FAIL: the Fifteen lines program printed: $out" >&2; exit 1; }
echo "README's Fifteen lines ran: $(grep "b got" <<<"$out")"
