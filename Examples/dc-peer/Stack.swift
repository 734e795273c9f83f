// The transports of one side: a NiceICE IceTransport, DTLS on its component 1, an SCTP
// association on that. The offerer builds it at start; the answerer once the offer told it its
// ICE role.
import Dispatch
import Foundation
import Logging
import NiceICE
import NiceWebRTC

/// Why the transports could not be built (any layer's error, as text).
struct SetupError: Error, CustomStringConvertible {
    var description: String
}

struct Stack: Sendable {
    let connection: IceTransport
    let dtls: DtlsTransport
    let sctp: SctpTransport

    /// Builds ICE (gathering starts at once, on `--bind` only), DTLS (role `auto`: the offer says
    /// `actpass`, the answer decides) and SCTP, whose handlers run on `queue`.
    init(options: Options, role: IceRole, queue: DispatchQueue, logger: Logger) throws(SetupError) {
        var configuration = IceTransport.Configuration(role: role, localAddresses: [options.bind])
        if let stun = options.stun {
            configuration.iceServers.append(IceServer(url: "stun:" + stun))
        }
        if let turn = options.turn {
            configuration.iceServers.append(
                IceServer(url: "turn:" + turn, username: options.turnUser, credential: options.turnPass))
        }
        if options.relayOnly {
            configuration.iceTransportPolicy = .relay
        }
        do throws(IceError) {
            connection = try IceTransport(configuration: configuration, logger: logger)
        } catch {
            throw SetupError(description: "ICE: \(error)")
        }
        let certificate: Certificate
        do throws(DtlsError) {
            certificate = try Certificate.generate()
            dtls = try DtlsTransport(iceTransport: connection, configuration: .init(certificate: certificate), logger: logger)
        } catch {
            connection.close()
            throw SetupError(description: "DTLS: \(error)")
        }
        do throws(DataChannelError) {
            // DC_PEER_RECEIVE_LIMIT=BYTES: a small receive budget makes SCTP's read pause (and its
            // wake-up by the consumer) happen all the time; for soaks of that path.
            var sctpConfiguration = SctpTransport.Configuration(queue: queue)
            if let text = ProcessInfo.processInfo.environment["DC_PEER_RECEIVE_LIMIT"], let limit = Int(text), limit > 0 {
                sctpConfiguration.receiveBufferLimit = limit
            }
            sctp = try SctpTransport(dtlsTransport: dtls, configuration: sctpConfiguration, logger: logger)
        } catch {
            dtls.close()
            throw SetupError(description: "SCTP: \(error)")
        }
    }

    /// What our `a=sctp-port` and `a=max-message-size` say.
    var localSctp: SctpParameters { sctp.localParameters }

    /// Ends the association (channels `closed`), DTLS (close_notify) and ICE, and waits (at most
    /// 5 s) until libnice let go of the sockets.
    func close() async {
        sctp.close()
        await connection.closeAndWait()
    }
}
