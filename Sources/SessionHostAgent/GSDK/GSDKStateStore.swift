#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import SessionHostModel

/// What the GSDK front end keeps across agent restarts, because a running game server cannot
/// learn it again: it reads the config file once, and its SDK never goes back from Active.
public struct GSDKSavedState: Codable, Sendable, Equatable {
    /// The address and port the kernel picked for `--gsdk-listen HOST:0`, bound again at the next
    /// start: the config file the running game server read names it.
    public var listenHost: String?
    public var listenPort: Int?
    /// The session a game server reported Active with (`GSDKFrontEnd`'s `taken`): a later
    /// Initializing or StandingBy heartbeat while the host still holds it comes from a new
    /// process, whose predecessor's match is over.
    public var takenSessionId: String?

    public init(listenHost: String? = nil, listenPort: Int? = nil, takenSessionId: String? = nil) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.takenSessionId = takenSessionId
    }
}

/// Keeps `GSDKSavedState` in `gsdk.json` in the agent's state directory, written atomically and
/// durably like `state.json`.
public struct GSDKStateStore: Sendable {
    public let directory: String
    public var path: String { directory + "/gsdk.json" }

    public init(directory: String) {
        self.directory = directory
    }

    /// The saved state; empty when there is none. A file that cannot be decoded is moved aside
    /// (`gsdk.json.corrupt-<time>`) and an empty state returned, with a warning to log.
    public func load() throws(AgentError) -> (state: GSDKSavedState, warning: String?) {
        let bytes: [UInt8]?
        do {
            bytes = try AtomicFile.read(path)
        } catch {
            throw .stateNotSaved("cannot read \(path): \(error)")
        }
        guard let bytes else { return (GSDKSavedState(), nil) }
        do {
            return (try JSONDecoder().decode(GSDKSavedState.self, from: Data(bytes)), nil)
        } catch {
            let aside = path + ".corrupt-\(Int(Date().timeIntervalSince1970))"
            rename(path, aside)
            return (
                GSDKSavedState(),
                "\(path) could not be read (\(DecodingErrorDescription.describe(error))); moved it to \(aside) and started afresh"
            )
        }
    }

    /// Saves the state durably (`fsync`ed) before returning.
    public func save(_ state: GSDKSavedState) throws(AgentError) {
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            data = try encoder.encode(state)
        } catch {
            throw .stateNotSaved("cannot encode the GSDK state: \(error)")
        }
        do {
            try AtomicFile.write(Array(data) + [UInt8(ascii: "\n")], to: path)
        } catch {
            throw .stateNotSaved("cannot save the GSDK state to \(path): \(error)")
        }
    }
}
