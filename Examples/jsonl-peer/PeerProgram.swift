// What a peer program's main does first and last: SIGPIPE ignored (the bridge may go away),
// --help, usage errors (exit 2), and the end of the run (exit 0, or 1 with the reason).
import Foundation

package enum PeerProgram {
    /// The arguments after the program name; prints `usage` and exits 0 for -h/--help.
    package static func arguments(usage: String) -> [String] {
        signal(SIGPIPE, SIG_IGN)
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.contains("-h") || arguments.contains("--help") {
            FileHandle.standardError.write(Data((usage + "\n").utf8))
            exit(0)
        }
        return arguments
    }

    /// Prints a usage error and `usage`, exits 2.
    package static func usageError(_ program: String, _ error: any Error, usage: String) -> Never {
        FileHandle.standardError.write(Data("\(program): \(error)\n\n\(usage)\n".utf8))
        exit(2)
    }

    /// Runs the peer; exits 0 when it closed normally, 1 with the error otherwise.
    package static func run(_ program: String, _ body: () async throws -> Void) async -> Never {
        do {
            try await body()
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("\(program): \(error)\n".utf8))
            exit(1)
        }
    }
}
