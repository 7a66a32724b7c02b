#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import SessionHostModel

/// Keeps the agent's `AgentStateRecord` in `state.json` in the state directory, written atomically.
public struct AgentStateStore: Sendable {
    public let directory: String
    public var path: String { directory + "/state.json" }

    public init(directory: String) {
        self.directory = directory
    }

    /// Creates the state directory if needed (mode 0750) and checks that it can be written.
    public func prepare() throws(AgentError) {
        var info = stat()
        if stat(directory, &info) != 0 {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            } catch {
                throw .stateNotSaved(
                    "cannot create state directory \(directory): \(FileErrorDescription.describeCreating(directory: directory, error))"
                )
            }
        } else if info.st_mode & S_IFMT != S_IFDIR {
            throw .stateNotSaved("state directory \(directory) is not a directory")
        }
        if access(directory, W_OK) != 0 {
            throw .stateNotSaved("state directory \(directory) is not writable: \(String(cString: strerror(errno)))")
        }
    }

    /// The saved record; `nil` when there is none. A file that cannot be decoded is moved aside
    /// (`state.json.corrupt-<time>`) so that nothing is overwritten, and `nil` is returned.
    public func load() throws(AgentError) -> (record: AgentStateRecord?, warning: String?) {
        let bytes: [UInt8]?
        do {
            bytes = try AtomicFile.read(path)
        } catch {
            throw .stateNotSaved("cannot read \(path): \(error)")
        }
        guard let bytes else { return (nil, nil) }
        do {
            let record = try JSONDecoder().decode(AgentStateRecord.self, from: Data(bytes))
            guard record.format <= AgentStateRecord.currentFormat else {
                throw AgentError.stateNotSaved(
                    "\(path) was written by a newer sessionhostd (format \(record.format)); refusing to overwrite it")
            }
            return (record, nil)
        } catch let error as AgentError {
            throw error
        } catch {
            let aside = path + ".corrupt-\(Int(Date().timeIntervalSince1970))"
            rename(path, aside)
            return (
                nil,
                "\(path) could not be read (\(DecodingErrorDescription.describe(error))); moved it to \(aside) and started afresh"
            )
        }
    }

    /// Saves the record, durably (`fsync`ed) before returning unless `durable` is false.
    public func save(_ record: AgentStateRecord, durable: Bool = true) throws(AgentError) {
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            data = try encoder.encode(record)
        } catch {
            throw .stateNotSaved("cannot encode the state: \(error)")
        }
        do {
            try AtomicFile.write(Array(data), to: path, durable: durable)
        } catch {
            throw .stateNotSaved("cannot save the state to \(path): \(error)")
        }
    }
}
