import Testing
@testable import NiceICECore

@Suite("IceParameters")
struct IceParametersTests {
    static let libnicePassword = "J3bmVxWNPmyEk6JcKO+yCo"

    @Test("valid credentials from libnice, Chrome, Firefox and at the limits", .timeLimit(.minutes(1)), arguments: [
        ("aB3+", libnicePassword),                                     // libnice: 4 and 22 characters
        ("EsAw", "bP+XJMM09aR8AiX1jdukzR6Y"),                          // Chrome
        ("58142170", "e3baa26dd2fa5030d881d385f1e36cce"),               // Firefox
        ("a/b+", "++++++++++++++++++////"),
        (String(repeating: "u", count: 256), String(repeating: "p", count: 256)),
    ])
    func valid(ufrag: String, password: String) throws {
        let parameters = IceParameters(usernameFragment: ufrag, password: password)
        try parameters.validate()
        #expect(parameters.usernameFragment == ufrag)
        #expect(parameters.password == password)
    }

    @Test("invalid credentials name the field", .timeLimit(.minutes(1)), arguments: [
        ("abc", libnicePassword, "ufrag"),
        ("", libnicePassword, "ufrag"),
        (String(repeating: "u", count: 257), libnicePassword, "ufrag"),
        ("ab-cd", libnicePassword, "ufrag"),
        ("abcd ", libnicePassword, "ufrag"),
        ("abcé", libnicePassword, "ufrag"),
        ("abc\u{0}", libnicePassword, "ufrag"),
        ("abcd", "J3bmVxWNPmyEk6JcKO+yC", "password"),
        ("abcd", "", "password"),
        ("abcd", String(repeating: "p", count: 257), "password"),
        ("abcd", "J3bmVxWNPmyEk6JcKO+yC=", "password"),
        ("abcd", "J3bmVxWNPmyEk6JcKO+yC\r\n", "password"),
        ("abc", "short", "ufrag"),
    ])
    func invalid(ufrag: String, password: String, field: String) {
        let error = #expect(throws: IceError.self) {
            try IceParameters(usernameFragment: ufrag, password: password).validate()
        }
        #expect(error?.code == .invalidParameters)
        #expect(error?.field == field)
    }

    @Test("reasons say what is wrong", .timeLimit(.minutes(1)))
    func reasons() {
        #expect(throws: IceError(.invalidParameters, field: "ufrag", reason: "ufrag must be 4 to 256 characters long, not 3")) {
            try IceParameters(usernameFragment: "abc", password: Self.libnicePassword).validate()
        }
        #expect(throws: IceError(.invalidParameters, field: "password", reason: "password must be 22 to 256 characters long, not 21")) {
            try IceParameters(usernameFragment: "abcd", password: "J3bmVxWNPmyEk6JcKO+yC").validate()
        }
        #expect(throws: IceError(.invalidParameters, field: "password", reason: "password may contain only ALPHA, DIGIT, \"+\" and \"/\"")) {
            try IceParameters(usernameFragment: "abcd", password: "secret-secret-secret-secret").validate()
        }
    }

    @Test("the password never appears in descriptions, dumps or errors", .timeLimit(.minutes(1)))
    func redaction() {
        let secret = "TopSecretPassword1234567"
        let parameters = IceParameters(usernameFragment: "abcd", password: secret)
        #expect(parameters.description == "IceParameters(ufrag: abcd, password: <redacted>)")
        #expect("\(parameters)" == "IceParameters(ufrag: abcd, password: <redacted>)")
        #expect(!String(reflecting: parameters).contains(secret))
        var dumped = ""
        dump(parameters, to: &dumped)
        #expect(!dumped.contains(secret))
        #expect(dumped.contains("<redacted>"))

        let badSecret = "Top-Secret-Password-1234567"
        let error = #expect(throws: IceError.self) {
            try IceParameters(usernameFragment: "abcd", password: badSecret).validate()
        }
        #expect(error.map { !String(describing: $0).contains(badSecret) } == true)
    }

    @Test("equality and hashing use both values", .timeLimit(.minutes(1)))
    func equality() {
        let a = IceParameters(usernameFragment: "abcd", password: Self.libnicePassword)
        let b = IceParameters(usernameFragment: "abcd", password: "X3bmVxWNPmyEk6JcKO+yCo")
        #expect(a != b)
        #expect(a == IceParameters(usernameFragment: "abcd", password: Self.libnicePassword))
        #expect(Set([a, b, a]).count == 2)
    }
}
