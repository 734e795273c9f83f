// LiveServer: WHIP ingest and WHEP playback on Hummingbird 2 (issue 20). Placeholder until the
// HTTP side lands.
import ArgumentParser

@main
struct LiveServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "LiveServer")
    func run() async throws {}
}
