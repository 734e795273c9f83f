import NiceWebRTCCore
import Testing

@Suite("DtlsRecordScanner: record framing before OpenSSL")
struct DtlsRecordScannerTests {
    static func record(type: UInt8 = 23, version: (UInt8, UInt8) = (0xFE, 0xFD), epoch: UInt16 = 1, length: Int? = nil, body: Int) -> [UInt8] {
        let l = length ?? body
        return [type, version.0, version.1, UInt8(epoch >> 8), UInt8(epoch & 0xFF), 0, 0, 0, 0, 0, 7, UInt8(l >> 8), UInt8(l & 0xFF)]
            + [UInt8](repeating: 0xAB, count: body)
    }

    static func defect(_ bytes: [UInt8], minimum: Int = 24) -> DtlsRecordScanner.Defect? {
        bytes.withUnsafeBytes { DtlsRecordScanner.defect(in: $0, minimumProtectedLength: minimum) }
    }

    @Test("well-framed datagrams pass: one record, several, a DTLS 1.0 ClientHello record", .timeLimit(.minutes(1)))
    func accepted() {
        #expect(Self.defect(Self.record(body: 40)) == nil)
        #expect(Self.defect(Self.record(type: 22, epoch: 0, body: 100) + Self.record(type: 20, epoch: 0, body: 1) + Self.record(body: 24)) == nil)
        #expect(Self.defect(Self.record(type: 22, version: (0xFE, 0xFF), epoch: 0, body: 3)) == nil)
        #expect(Self.defect(Self.record(body: 16), minimum: 16) == nil, "ChaCha20-Poly1305: the tag alone")
        #expect(Self.defect(Self.record(body: DtlsRecordScanner.maximumRecordLength)) == nil)
    }

    @Test("each framing defect is named", .timeLimit(.minutes(1)))
    func refused() {
        #expect(Self.defect([]) == .empty)
        #expect(Self.defect(Array(Self.record(body: 30).prefix(12))) == .truncatedHeader)
        #expect(Self.defect(Self.record(body: 30) + [23, 0xFE]) == .truncatedHeader)
        #expect(Self.defect(Self.record(type: 24, body: 30)) == .contentType(24))
        #expect(Self.defect(Self.record(type: 25, body: 30)) == .contentType(25))
        #expect(Self.defect(Self.record(version: (3, 3), body: 30)) == .version(3, 3))
        #expect(Self.defect(Self.record(length: DtlsRecordScanner.maximumRecordLength + 1, body: 30)) == .length(DtlsRecordScanner.maximumRecordLength + 1))
        #expect(Self.defect(Self.record(length: 31, body: 30)) == .truncatedBody)
        #expect(Self.defect(Self.record(body: 7)) == .shortProtectedRecord(7), "what made OpenSSL 3.0 send internal_error")
        #expect(Self.defect(Self.record(body: 23)) == .shortProtectedRecord(23))
        #expect(Self.defect(Self.record(epoch: 0, body: 1)) == nil, "epoch 0 is plaintext: any length")
        let many = (0...DtlsRecordScanner.maximumRecordsPerDatagram).flatMap { _ in Self.record(type: 21, epoch: 0, body: 2) }
        #expect(Self.defect(many) == .tooManyRecords)
    }
}
