// The transports of one session: a NiceICE IceTransport, DTLS on it, SCTP on that.
import Dispatch
import Logging
import NiceWebRTC

/// Why a session's transports could not be built: the layer's typed error as an `error` message.
struct StackError: Error, Sendable {
    var field: String
    var reason: String
}

/// A session's ICE + DTLS + SCTP stack. Its handlers run on the session's queue.
struct SessionStack: Sendable {
    let connection: IceTransport
    let dtls: DtlsTransport
    let sctp: SctpTransport

    /// Builds ICE (gathering starts at once, on the configured addresses only), DTLS (role `auto`:
    /// against the page's `actpass` we become the client) and SCTP.
    init(ice: IceTransport.Configuration, queue: DispatchQueue, logger: Logger) throws(StackError) {
        do throws(IceError) {
            connection = try IceTransport(configuration: ice, logger: logger)
        } catch {
            throw StackError(field: error.field ?? "ice", reason: "ICE: \(error.reason)")
        }
        do throws(DtlsError) {
            let certificate = try Certificate.generate()
            dtls = try DtlsTransport(iceTransport: connection, configuration: .init(certificate: certificate), logger: logger)
        } catch {
            connection.close()
            throw StackError(field: error.field ?? "dtls", reason: "DTLS: \(error.reason)")
        }
        do throws(DataChannelError) {
            sctp = try SctpTransport(dtlsTransport: dtls, configuration: .init(queue: queue), logger: logger)
        } catch {
            dtls.close()
            throw StackError(field: error.field ?? "sctp", reason: "SCTP: \(error.reason)")
        }
    }

    /// Aborts the association (the page sees its channels and the connection close), sends
    /// close_notify, closes ICE.
    func close() {
        sctp.close()
    }

    /// Waits (bounded by NiceICE, 5 s) until libnice released the agent's sockets.
    func waitUntilReleased() async {
        await connection.closeAndWait()
    }
}
