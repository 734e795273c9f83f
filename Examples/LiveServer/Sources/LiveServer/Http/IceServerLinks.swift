// The `Link: <…>; rel="ice-server"` headers of a 201 (RFC 9725 §4.6).
import NiceWebRTC

enum IceServerLinks {
    /// One `Link` value per URL of each server. TURN servers carry `username`, `credential` and
    /// `credential-type="password"`, and only when `includeCredentials` (a token is configured:
    /// on an open server anyone could read them and use the relay); without, TURN servers are
    /// left out (a TURN URL without credentials is of no use).
    static func values(_ servers: [IceServer], includeCredentials: Bool) -> [String] {
        var values: [String] = []
        for server in servers {
            for url in server.urls {
                let isTurn = url.lowercased().hasPrefix("turn")
                if !isTurn {
                    values.append("<\(url)>; rel=\"ice-server\"")
                } else if includeCredentials, let username = server.username, let credential = server.credential {
                    values.append(
                        "<\(url)>; rel=\"ice-server\"; username=\(quoted(username)); credential=\(quoted(credential)); credential-type=\"password\"")
                }
            }
        }
        return values
    }

    /// An RFC 9110 quoted-string.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for character in text {
            if character == "\"" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }
}
