// LiveLoad: one WHIP publisher and N WHEP viewers against a LiveServer (issue 20's benchmark).
// Placeholder until the load generator lands.
import ArgumentParser

@main
struct LiveLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "LiveLoad")
    func run() async throws {}
}
