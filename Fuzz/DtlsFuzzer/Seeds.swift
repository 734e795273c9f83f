// The seed corpus of the DTLS fuzzer (Fuzz/seed-dtls/), written by the fuzzer binary itself:
//
//   Fuzz/.build/dtls-fuzzer --write-seeds Fuzz/seed-dtls
//
// Runs one clean in-memory handshake (with application data both ways and a close_notify),
// captures every datagram, and writes programs in the input format of main.swift: genuine records
// of that (foreign) session as RAW datagrams, and operations on the fuzzed input's own session
// (replays, mutations, concatenations, loss, timers, close) by capture index. Indices follow the
// flights' datagram counts seen here; they are the same in every run (the flights' sizes vary by a
// few bytes at most).

#if canImport(Glibc)
import Glibc
#endif

enum SeedWriter {
    static func handleCommandLine() {
        let arguments = CommandLine.arguments
        for (flag, knownBugs) in [("--write-seeds", false), ("--write-reproducers", true)] {
            guard let i = arguments.firstIndex(of: flag) else { continue }
            guard i + 1 < arguments.count else {
                printError("usage: \(arguments[0]) \(flag) DIR\n")
                exit(2)
            }
            let count = write(to: arguments[i + 1], knownBugs: knownBugs)
            printError("wrote \(count) files to \(arguments[i + 1])\n")
            exit(0)
        }
    }

    static func printError(_ text: String) {
        writeToStandardError(text)
    }

    struct Program {
        var bytes: [UInt8]
        init(_ header: UInt8) { bytes = [header] }
        mutating func op(_ kind: UInt8, _ payload: [UInt8] = []) {
            bytes.append(kind)
            bytes.append(UInt8(payload.count >> 8))
            bytes.append(UInt8(payload.count & 0xFF))
            bytes += payload
        }
        mutating func raw(_ d: [UInt8]) { op(0, d) }
        mutating func replay(_ i: Int) { op(1, [UInt8(i)]) }
        mutating func mutate(_ i: Int, at offset: Int, xor: [UInt8] = []) {
            op(2, [UInt8(i), UInt8(offset >> 8), UInt8(offset & 0xFF)] + xor)
        }
        mutating func concat(_ indices: [Int]) { op(3, indices.map { UInt8($0) }) }
        /// `sender`'s next `count` (1...8) queued datagrams.
        mutating func step(_ sender: Side, _ count: Int = 1) {
            op(4, [UInt8((count - 1) << 1) | (sender == .client ? 0 : 1)])
        }
        mutating func stepBoth() { op(4) }
        mutating func drop(_ sender: Side) { op(5, [sender == .client ? 0 : 1]) }
        mutating func write(byTarget: Bool, _ body: [UInt8]) { op(6, [byTarget ? 1 : 0] + body) }
        mutating func timer() { op(7) }
        mutating func timer(milliseconds: Int, sides: UInt8 = 0) { op(7, [UInt8(milliseconds / 20 - 1), sides]) }
        mutating func close(target: Bool) { op(8, [target ? 1 : 0]) }
        mutating func frame(_ records: [(type: UInt8, epoch: UInt8, sequence: UInt8, body: [UInt8])]) {
            op(9, records.flatMap { [$0.type, $0.epoch, $0.sequence, UInt8($0.body.count)] + $0.body })
        }
        mutating func resize(_ i: Int, record: Int, to length: Int) {
            op(10, [UInt8(i), UInt8(record), UInt8(length >> 8), UInt8(length & 0xFF)])
        }
    }

    static func write(to directory: String, knownBugs: Bool) -> Int {
        mkdir(directory, 0o755)
        // One clean session: its datagrams are the RAW material (foreign to every fuzzed input).
        let link = Link(mode: .established)
        establish(link)
        link.close(.client)
        let captured = link.tap.captured
        // The handshake's flights: runs of datagrams of one sender before the first application
        // datagram (content type 23).
        var flights: [[Int]] = []
        var sender: Side?
        var firstApplication = captured.count
        for (i, c) in captured.enumerated() {
            if c.bytes.first == 23 {
                firstApplication = i
                break
            }
            if c.from != sender { flights.append([]) }
            flights[flights.count - 1].append(i)
            sender = c.from
        }
        guard flights.count == 4 else { violation("expected 4 flights in a clean handshake, saw \(flights.count)") }
        let app = Array(captured[firstApplication...].filter { $0.bytes.first == 23 })
        let appClient = app.filter { $0.from == .client }.map(\.bytes)
        let appServer = app.filter { $0.from == .server }.map(\.bytes)
        guard appClient.count >= 2, appServer.count >= 2, let closeNotify = captured.last?.bytes, captured.last?.from == .client
        else { violation("unexpected capture of the clean session") }
        func bytes(_ flight: Int) -> [[UInt8]] { flights[flight].map { captured[$0].bytes } }
        let clientHello = bytes(0)[0]
        let serverFlight = bytes(1)
        let clientFlight = bytes(2)
        let serverFinal = bytes(3)
        // Capture indices of the fuzzed input's own session. Handshake mode, in order of sending:
        // ClientHello 0, the server's flight, the client's flight, the server's final flight.
        let k1 = serverFlight.count
        let k2 = clientFlight.count
        let hsServerFlight = 1
        let hsClientFlight = 1 + k1
        let hsServerFinal = 1 + k1 + k2
        let hsAfterFinal = hsServerFinal + serverFinal.count
        // Established mode: the handshake, then application data client, client, server, server.
        let esApp = hsAfterFinal
        let esEnd = esApp + 4

        var seeds: [(String, Program)] = []
        func seed(_ name: String, _ header: UInt8, knownBug: Bool = false, _ build: (inout Program) -> Void) {
            guard knownBug == knownBugs else { return }
            var p = Program(header)
            build(&p)
            seeds.append((name, p))
        }
        let server: UInt8 = 0  // header: handshake mode, target server
        let client: UInt8 = 2  // handshake mode, target client
        let eServer: UInt8 = 1  // established mode, target server
        let eClient: UInt8 = 3  // established mode, target client

        // MARK: Handshake mode, hostile datagrams into the server
        seed("hs-server-empty", server) { _ in }
        seed("hs-server-honest-steps", server) { p in
            for _ in 0..<4 { p.stepBoth() }
            p.write(byTarget: false, Array("hello from the client".utf8))
            p.stepBoth()
        }
        seed("hs-server-raw-clienthello", server) { p in p.raw(clientHello) }
        seed("hs-server-raw-clienthello-then-real", server) { p in
            p.raw(clientHello)
            p.step(.client)
            p.step(.server, 2)
            p.step(.client, 2)
        }
        seed("hs-server-foreign-client-flight", server) { p in
            p.step(.client)
            p.step(.server, k1)
            for d in clientFlight { p.raw(d) }
        }
        seed("hs-server-foreign-server-flight", server) { p in for d in serverFlight { p.raw(d) } }
        seed("hs-server-foreign-appdata", server) { p in
            p.raw(appClient[0])
            p.stepBoth()
            p.raw(closeNotify)
        }
        seed("hs-server-loss-clienthello", server) { p in
            p.drop(.client)
            p.timer()
            p.stepBoth()
        }
        seed("hs-server-loss-server-flight", server) { p in
            p.step(.client)
            for _ in 0..<k1 { p.drop(.server) }
            p.timer(milliseconds: 300, sides: 2)
            p.stepBoth()
        }
        seed("hs-server-loss-client-flight", server) { p in
            p.step(.client)
            p.step(.server, k1)
            for _ in 0..<k2 { p.drop(.client) }
            p.timer(milliseconds: 600)
            p.stepBoth()
        }
        seed("hs-server-loss-final-flight", server) { p in
            p.step(.client)
            p.step(.server, k1)
            p.step(.client, k2)
            p.drop(.server)
            p.timer()
            p.timer()
        }
        seed("hs-server-duplicate-clienthello", server) { p in
            p.step(.client)
            p.replay(0)
            p.stepBoth()
            p.replay(0)
        }
        seed("hs-server-duplicate-client-flight", server) { p in
            p.step(.client)
            p.step(.server, k1)
            p.step(.client, k2)
            for i in 0..<k2 { p.replay(hsClientFlight + i) }
        }
        seed("hs-server-mutate-clienthello", server) { p in p.mutate(0, at: 60, xor: [0xFF]) }
        seed("hs-server-mutate-clienthello-length", server) { p in p.mutate(0, at: 11, xor: [0x01, 0x00]) }
        seed("hs-server-truncate-clienthello", server) { p in p.mutate(0, at: 50) }
        seed("hs-server-mutate-client-flight", server) { p in
            p.step(.client)
            p.step(.server, k1)
            p.mutate(hsClientFlight, at: 40, xor: [0x01])
        }
        seed("hs-server-concat-client-flight", server) { p in
            p.step(.client)
            p.step(.server, k1)
            p.concat([hsClientFlight, hsClientFlight])
        }
        seed("hs-server-reflect-server-flight", server) { p in
            p.step(.client)
            p.replay(hsServerFlight)
        }
        seed("hs-server-early-write", server) { p in
            p.write(byTarget: true, [1, 2, 3])
            p.write(byTarget: false, [4, 5, 6])
            p.stepBoth()
        }
        seed("hs-server-resize-clienthello", server) { p in p.resize(0, record: 0, to: 60) }
        seed("hs-server-frame-handshake-fragment", server) { p in
            // A ClientHello header claiming 200 bytes, fragment 0..<12 of it.
            p.frame([(22, 0, 0, [1, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0, 12] + [UInt8](repeating: 0xFE, count: 12))])
        }
        seed("hs-server-frame-ccs-and-alert", server) { p in
            p.step(.client)
            p.frame([(20, 0, 1, [1]), (21, 0, 2, [1, 0])])
        }
        seed("hs-server-close-during-handshake", server) { p in
            p.step(.client)
            p.close(target: true)
            p.stepBoth()
        }

        // MARK: Handshake mode, hostile datagrams into the client
        seed("hs-client-foreign-server-flight-first", client) { p in for d in serverFlight { p.raw(d) } }
        seed("hs-client-foreign-server-flight-racing", client) { p in
            p.step(.client)
            for d in serverFlight { p.raw(d) }
            p.step(.server, k1)
        }
        seed("hs-client-foreign-final", client) { p in
            p.step(.client)
            p.step(.server, k1)
            p.step(.client, k2)
            for d in serverFinal { p.raw(d) }
        }
        // Known bug (see Fuzz/dtls-reproducers/): receive() returns .connected and hides the
        // close_notify that followed the Finished in the same datagram.
        seed("hs-client-final-and-close-notify-in-one-datagram", client, knownBug: true) { p in
            p.step(.client)
            p.step(.server, k1)
            p.step(.client, k2)  // the server is connected; its final flight is queued
            p.close(target: false)  // the server closes: close_notify queued behind it
            p.concat(Array(hsServerFinal..<hsAfterFinal) + [hsAfterFinal])
            for _ in 0..<(serverFinal.count + 1) { p.drop(.server) }
        }
        // Known bug, the same: a server flight whose ServerHelloDone record is zero-padded makes
        // the client send its flight and then a fatal alert, packed into one datagram; the
        // server's receive() returns .connected and hides that it failed.
        seed("hs-server-finished-and-alert-in-one-datagram", client, knownBug: true) { p in
            p.step(.client)
            p.resize(hsServerFlight, record: 4, to: 100)
        }
        seed("hs-client-mutate-server-flight", client) { p in
            p.step(.client)
            p.mutate(hsServerFlight, at: 100, xor: [0x10])
        }
        seed("hs-client-mutate-final", client) { p in
            p.step(.client)
            p.step(.server, k1)
            p.step(.client, k2)
            p.mutate(hsServerFinal, at: 20, xor: [0x80])
        }
        seed("hs-client-reflect-clienthello", client) { p in p.replay(0) }
        seed("hs-client-foreign-clienthello", client) { p in p.raw(clientHello) }
        seed("hs-client-foreign-alert", client) { p in
            // A plaintext fatal alert (handshake_failure) in epoch 0, while the client waits.
            p.step(.client)
            p.raw([21, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 9, 0, 2, 2, 40])
        }

        // MARK: Established mode, hostile datagrams into the server
        seed("est-server-foreign-appdata", eServer) { p in for d in appClient { p.raw(d) } }
        seed("est-server-foreign-close-notify", eServer) { p in p.raw(closeNotify) }
        seed("est-server-foreign-clienthello", eServer) { p in p.raw(clientHello) }
        seed("est-server-foreign-client-flight", eServer) { p in for d in clientFlight { p.raw(d) } }
        seed("est-server-replay-everything", eServer) { p in for i in 0..<esEnd { p.replay(i) } }
        seed("est-server-replay-client-flight", eServer) { p in
            for i in 0..<k2 { p.replay(hsClientFlight + i) }
            p.stepBoth()
        }
        seed("est-server-concat-appdata", eServer) { p in p.concat([esApp, esApp + 1, esApp]) }
        seed("est-server-mutate-appdata", eServer) { p in
            p.mutate(esApp, at: 20, xor: [0x01])
            p.mutate(esApp, at: 11, xor: [0x40])
            p.mutate(esApp, at: 30)
        }
        seed("est-server-write-then-replay", eServer) { p in
            p.write(byTarget: false, Array("fresh".utf8))
            p.step(.client)
            p.replay(esEnd)
            p.replay(esEnd)
        }
        seed("est-server-late-appdata", eServer) { p in
            p.write(byTarget: false, [9, 9])
            p.drop(.client)
            p.write(byTarget: false, [8, 8])
            p.step(.client)
            p.replay(esEnd)  // the dropped one, late: delivered once
            p.replay(esEnd)
        }
        seed("est-server-timer", eServer) { p in
            p.timer()
            p.raw(appClient[1])
            p.timer(milliseconds: 500)
        }
        seed("est-server-closes", eServer) { p in
            p.close(target: true)
            p.raw(appClient[0])
            p.stepBoth()
        }
        seed("est-server-frame-short-protected-record", eServer) { p in
            // An epoch-1 record shorter than AES-GCM's nonce and tag (DtlsRecordScanner drops it).
            p.frame([(23, 1, 9, [UInt8](repeating: 0x41, count: 8))])
        }
        seed("est-server-frame-epoch-2", eServer) { p in p.frame([(22, 2, 0, [UInt8](repeating: 0, count: 40))]) }
        seed("est-server-resize-appdata-short", eServer) { p in p.resize(esApp, record: 0, to: 8) }
        seed("est-server-resize-appdata-long", eServer) { p in p.resize(esApp, record: 0, to: 18_000) }
        seed("est-server-oversized-record", eServer) { p in
            var d: [UInt8] = [23, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 9, 0x48, 0x00]
            d += [UInt8](repeating: 0x5A, count: 0x4800)
            p.raw(d)
        }

        // MARK: Established mode, hostile datagrams into the client
        seed("est-client-foreign-appdata", eClient) { p in for d in appServer { p.raw(d) } }
        seed("est-client-foreign-server-flight", eClient) { p in for d in serverFlight { p.raw(d) } }
        seed("est-client-replay-server-final", eClient) { p in
            for i in hsServerFinal..<hsAfterFinal { p.replay(i) }
        }
        seed("est-client-concat-final-and-appdata", eClient) { p in p.concat([hsServerFinal, esApp + 2, esApp + 3]) }
        seed("est-client-mutate-appdata", eClient) { p in
            p.mutate(esApp + 2, at: 4, xor: [0x01])  // the epoch
            p.mutate(esApp + 2, at: 10, xor: [0x01])  // the sequence number
        }
        seed("est-client-reflect-own-appdata", eClient) { p in
            p.replay(esApp)
            p.replay(esApp + 1)
        }
        seed("est-client-frame-plaintext-alert", eClient) { p in p.frame([(21, 0, 9, [2, 40])]) }
        seed("est-client-resize-server-final", eClient) { p in p.resize(hsServerFinal, record: 1, to: 30) }
        seed("est-client-peer-closes", eClient) { p in
            p.close(target: false)
            p.stepBoth()
            p.raw(appServer[0])
        }

        for (name, p) in seeds {
            let path = directory + "/" + name
            guard let f = fopen(path, "wb") else { violation("cannot write \(path)") }
            _ = p.bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
            fclose(f)
        }
        return seeds.count
    }
}
