import Foundation

// What this process (and its network namespace) holds, read from /proc, for the lifetime tests.

/// The whole of a /proc file (they report size 0, so `String(contentsOfFile:)` may stop early).
func readProcFile(_ path: String) -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
    defer { try? handle.close() }
    return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
}

/// One row of /proc/self/net/{udp,udp6,tcp,tcp6}: every socket of the network namespace.
struct SocketEntry {
    var table: String
    var localPort: UInt16
    var remotePort: UInt16
    /// 0 for entries that hold no descriptor (TIME_WAIT).
    var inode: Substring
    var line: Substring
}

/// The kernel's socket tables (`sl local_address rem_address st … uid timeout inode …`).
func socketEntries(_ tables: [String] = ["udp", "udp6", "tcp", "tcp6"]) -> [SocketEntry] {
    var entries: [SocketEntry] = []
    for table in tables {
        for line in readProcFile("/proc/self/net/\(table)").split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count > 9 else { continue }
            let local = UInt16(f[1].split(separator: ":").last ?? "", radix: 16) ?? 0
            let remote = UInt16(f[2].split(separator: ":").last ?? "", radix: 16) ?? 0
            entries.append(SocketEntry(table: table, localPort: local, remotePort: remote, inode: f[9], line: line))
        }
    }
    return entries
}

/// Local ports of every socket in this network namespace (any process).
func boundPorts() -> Set<UInt16> {
    Set(socketEntries().map(\.localPort))
}

/// Open IPv4 sockets bound to a local port in `ports` or connected to remote port `remote`.
func openSockets(localPorts ports: ClosedRange<UInt16>? = nil, remotePort remote: UInt16? = nil) -> [String] {
    socketEntries(["udp", "tcp"]).filter { e in
        e.inode != "0" && ((ports?.contains(e.localPort) ?? false) || (remote.map { e.remotePort == $0 } ?? false))
    }.map { "\($0.table) \($0.line)" }
}

/// Names of this process's threads (`/proc/self/task/*/comm`).
func threadNames() -> [String] {
    Array(threadIDs(namedWithPrefix: "").values)
}
