#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import SessionHostModel

/// Keeps the VM's `DrainRecord` in `drain.json` in slot 1's state directory, written atomically
/// and `fsync`ed before a drain is acknowledged. No file: no drain.
public struct DrainStore: Sendable {
    public let directory: String
    public var path: String { directory + "/drain.json" }

    public init(directory: String) {
        self.directory = directory
    }

    /// The saved drain; `nil` when there is none. A file that cannot be decoded is moved aside
    /// (`drain.json.corrupt-<time>`) with a warning, and the agent starts without a drain.
    public func load() throws(AgentError) -> (record: DrainRecord?, warning: String?) {
        let bytes: [UInt8]?
        do {
            bytes = try AtomicFile.read(path)
        } catch {
            throw .stateNotSaved("cannot read \(path): \(error)")
        }
        guard let bytes else { return (nil, nil) }
        do {
            let record = try JSONDecoder().decode(DrainRecord.self, from: Data(bytes))
            guard record.format <= DrainRecord.currentFormat else {
                throw AgentError.stateNotSaved(
                    "\(path) was written by a newer sessionhostd (format \(record.format)); refusing to overwrite it")
            }
            try record.notice.validate()
            return (record, nil)
        } catch let error as AgentError {
            throw error
        } catch {
            let aside = path + ".corrupt-\(Int(Date().timeIntervalSince1970))"
            rename(path, aside)
            let why = (error as? InvalidInput)?.message ?? DecodingErrorDescription.describe(error)
            return (nil, "\(path) could not be read (\(why)); moved it to \(aside) and started without a drain")
        }
    }

    /// Saves the record durably before returning.
    public func save(_ record: DrainRecord) throws(AgentError) {
        let data: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            data = try encoder.encode(record)
        } catch {
            throw .stateNotSaved("cannot encode the drain: \(error)")
        }
        do {
            try AtomicFile.write(Array(data), to: path)
        } catch {
            throw .stateNotSaved("cannot save the drain to \(path): \(error)")
        }
    }
}
