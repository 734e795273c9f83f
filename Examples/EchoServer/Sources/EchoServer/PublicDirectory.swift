// Where the page's files are when --public-dir is not given.
import Foundation

/// Finds the package's `Public/` folder.
enum PublicDirectory {
    /// The first of these that holds an `index.html`: `Public` and `Examples/EchoServer/Public`
    /// below the current directory (`swift run` from the package or the repository root), the
    /// package folder above the executable (`.build/<config>/EchoServer` or
    /// `.build/<triple>/<config>/EchoServer`), and the package this file was compiled in.
    static func locate(currentDirectory: String = FileManager.default.currentDirectoryPath) -> String? {
        var candidates = [
            currentDirectory + "/Public",
            currentDirectory + "/Examples/EchoServer/Public",
        ]
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            folder = folder.deletingLastPathComponent()
            candidates.append(folder.appendingPathComponent("Public").path)
        }
        // Sources/EchoServer/PublicDirectory.swift → the package folder.
        let source = URL(fileURLWithPath: #filePath)
        candidates.append(source.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Public").path)
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
            .map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    }
}
