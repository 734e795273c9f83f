extension LiveSessionID {
    /// A new id: 128 bits from the system's CSPRNG, as 26 lowercase base32 characters (RFC 4648
    /// alphabet, no padding), so a `Location` cannot be guessed.
    static func random() -> LiveSessionID {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64, low = generator.next() as UInt64
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var text = ""
        // 130 bits (two zero bits appended) in 26 groups of 5.
        for index in 0..<26 {
            let bit = index * 5
            var value = 0
            for offset in 0..<5 {
                let b = bit + offset
                let set: Bool
                if b < 64 {
                    set = (high >> UInt64(63 - b)) & 1 == 1
                } else if b < 128 {
                    set = (low >> UInt64(127 - b)) & 1 == 1
                } else {
                    set = false
                }
                value = value << 1 | (set ? 1 : 0)
            }
            text.append(alphabet[value])
        }
        return LiveSessionID(value: text)
    }
}
