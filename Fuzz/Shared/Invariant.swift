// Shared by every fuzzer (Fuzz/lib.sh compiles Fuzz/Shared/*.swift into each): how a fuzzer
// reports a broken invariant.
#if canImport(Glibc)
import Glibc
#endif

/// Writes `text` to stderr unbuffered, so it survives a trap that follows.
func writeToStandardError(_ text: String) {
    #if canImport(Glibc)
    _ = text.utf8CString.withUnsafeBufferPointer { buffer in
        write(2, buffer.baseAddress, buffer.count - 1)
    }
    #endif
}

/// Reports a broken invariant of `fuzzer` on stderr ("`fuzzer` fuzz invariant violated: …") and
/// traps, which libFuzzer records as a crash with its reproducer.
func invariantViolated(_ fuzzer: String, _ message: String) -> Never {
    writeToStandardError(fuzzer + " fuzz invariant violated: " + message + "\n")
    preconditionFailure(message)
}
