// The depacketizer entry of the media fuzzer (modes >= 0x80 of Fuzz/MediaFuzzer/main.swift).
// A stub: the codecs work (Sources/NiceWebRTCCore/Rtp/Codecs) replaces this file with one that
// drives the Opus, VP8 and H.264 depacketizers and the frame assembler.

/// Feeds `data` to the depacketizers; a broken invariant traps.
func fuzzDepacketizers(_ data: [UInt8]) {}
