import Testing

import NiceWebRTCCore

@Suite("DTLS-SRTP key values (RFC 5764 §4.2)")
struct DtlsSrtpKeysTests {
    @Test("profiles: names, key and salt lengths, exporter length", .timeLimit(.minutes(1)))
    func profiles() {
        #expect(SrtpProfile.aeadAes128Gcm.keyingMaterialLength == 56)
        #expect(SrtpProfile.aes128CmSha1_80.keyingMaterialLength == 60)
        #expect(SrtpProfile.aeadAes256Gcm.keyingMaterialLength == 88)
        #expect(SrtpProfile.aes128CmSha1_32.keyingMaterialLength == 60)
        #expect(SrtpProfile(rawValue: "SRTP_AEAD_AES_128_GCM") == .aeadAes128Gcm)
        #expect(SrtpProfile(rawValue: "SRTP_NULL_SHA1_80") == nil)
        #expect(SrtpProfile.offerOrder == [.aeadAes128Gcm, .aes128CmSha1_80])
    }

    @Test("the exporter's output splits as client key | server key | client salt | server salt", .timeLimit(.minutes(1)),
          arguments: SrtpProfile.allCases)
    func split(profile: SrtpProfile) throws {
        let material = (0..<profile.keyingMaterialLength).map { UInt8($0) }
        let keys = try #require(DtlsSrtpKeys(profile: profile, material: material))
        let k = profile.keyLength, s = profile.saltLength
        #expect(keys.client.key == Array(material[0..<k]))
        #expect(keys.server.key == Array(material[k..<2 * k]))
        #expect(keys.client.salt == Array(material[2 * k..<2 * k + s]))
        #expect(keys.server.salt == Array(material[2 * k + s..<2 * (k + s)]))
        // Mirror: what the client sends with is what the server receives with.
        #expect(keys.outbound(localIsClient: true) == keys.inbound(localIsClient: false))
        #expect(keys.outbound(localIsClient: false) == keys.inbound(localIsClient: true))
        #expect(DtlsSrtpKeys(profile: profile, material: Array(material.dropLast())) == nil)
    }

    @Test("the keys never print: description, debugDescription, dump", .timeLimit(.minutes(1)))
    func redacted() throws {
        let material = (0..<56).map { _ in UInt8.random(in: 0x10...0xFF) }
        let keys = try #require(DtlsSrtpKeys(profile: .aeadAes128Gcm, material: material))
        var dumped = ""
        dump(keys, to: &dumped)
        let texts = [
            keys.description, keys.debugDescription, String(describing: keys), String(reflecting: keys), dumped,
            String(reflecting: keys.client), "\(keys.server)",
        ]
        let hex = material.map { String($0, radix: 16) }
        let decimalRun = material.prefix(4).map(String.init).joined(separator: ", ")
        for text in texts {
            #expect(text.contains("redacted") || text.contains("SRTP_AEAD_AES_128_GCM"), "\(text)")
            #expect(!text.contains(decimalRun), "\(text)")
            #expect(!text.contains(hex.prefix(4).joined()), "\(text)")
        }
    }
}
