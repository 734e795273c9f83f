// The peers' logs: swift-log to stderr (stdout carries protocol lines only), at the level
// DC_PEER_LOG_LEVEL names (trace, debug, info, notice, warning, error; default info).
import Foundation
import Logging

package enum PeerLogging {
    /// Bootstraps swift-log once, at program start.
    package static func bootstrap() {
        let level = ProcessInfo.processInfo.environment["DC_PEER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
