// Where the page's files are when --public-dir is not given, and how they are served.
import Foundation
import Hummingbird
import Logging
import NIOPosix

/// Finds the package's `Public/` folder.
enum PublicDirectory {
    /// The first of these that holds an `index.html`: `Public` and `Examples/LiveServer/Public`
    /// below the current directory (`swift run` from the package or the repository root), the
    /// package folder above the executable (`.build/<config>/LiveServer` or
    /// `.build/<triple>/<config>/LiveServer`), and the package this file was compiled in.
    static func locate(currentDirectory: String = FileManager.default.currentDirectoryPath) -> String? {
        var candidates = [
            currentDirectory + "/Public",
            currentDirectory + "/Examples/LiveServer/Public",
        ]
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        var folder = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            folder = folder.deletingLastPathComponent()
            candidates.append(folder.appendingPathComponent("Public").path)
        }
        // Sources/LiveServer/Http/PublicDirectory.swift → the package folder.
        let source = URL(fileURLWithPath: #filePath)
        candidates.append(source.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Public").path)
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/index.html") }
            .map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    }
}

/// The static files of `--public-dir` (as EchoServer's): Hummingbird's
/// ``LocalFileSystem`` (which refuses `..`), but no path with a component starting with `.`
/// (`/.git/config`, `/.env`, `/a/.hidden`) and no path through a symbolic link below the folder:
/// both are answered 404 as if they did not exist.
struct PublicFileProvider: FileProvider {
    typealias FileAttributes = LocalFileSystem.FileAttributes
    typealias FileIdentifier = LocalFileSystem.FileIdentifier

    /// The folder, symlinks resolved (a symlinked folder itself is fine: the check starts below it).
    let root: String
    private let files: LocalFileSystem

    init(rootFolder: String, logger: Logger) {
        let resolved = URL(fileURLWithPath: rootFolder).resolvingSymlinksInPath().standardizedFileURL.path
        root = resolved.hasSuffix("/") ? String(resolved.dropLast()) : resolved
        files = LocalFileSystem(rootFolder: root, threadPool: .singleton, logger: logger)
    }

    /// The file for a request path (percent-decoded by Hummingbird), or nil (404).
    func getFileIdentifier(_ path: String) -> FileIdentifier? {
        guard Self.isServable(path) else { return nil }
        var current = root
        for component in path.split(separator: "/") {
            current += "/" + component
            // lstat: a symlink is refused wherever it points; a missing file is LocalFileSystem's 404.
            var info = stat()
            if lstat(current, &info) != 0 { break }
            if info.st_mode & S_IFMT == S_IFLNK { return nil }
        }
        return files.getFileIdentifier(path)
    }

    /// Whether a request path names no dotfile: no component is empty-dotted, hidden or `..`.
    static func isServable(_ path: String) -> Bool {
        !path.split(separator: "/").contains { $0.hasPrefix(".") } && !path.contains("\0") && !path.contains("\\")
    }

    func getAttributes(id: FileIdentifier) async throws -> FileAttributes? {
        try await files.getAttributes(id: id)
    }

    func loadFile(id: FileIdentifier, context: some RequestContext) async throws -> ResponseBody {
        try await files.loadFile(id: id, context: context)
    }

    func loadFile(id: FileIdentifier, range: ClosedRange<Int>, context: some RequestContext) async throws -> ResponseBody {
        try await files.loadFile(id: id, range: range, context: context)
    }
}
