#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Configuration files of the daemons: JSON objects whose keys are the long flag names
/// (`"title-id"`, `"handoff-timeout"`, …). Unknown keys are refused so that a typo does not pass
/// silently.
public enum ConfigFile {
    /// Reads and decodes the file at `path`, with errors that name the file and the problem.
    public static func load<File: Decodable>(_ type: File.Type, path: String) throws(InvalidInput) -> File {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw InvalidInput(
                code: .configUnreadable,
                message: "cannot read config file \(path): \(FileErrorDescription.describe(error, path: path))")
        }
        do {
            return try JSONDecoder().decode(File.self, from: data)
        } catch let error as InvalidInput {
            throw InvalidInput(code: error.code, message: "config file \(path): \(error.message)")
        } catch {
            throw InvalidInput(
                code: .configInvalid,
                message: "config file \(path) is not valid: \(DecodingErrorDescription.describe(error))")
        }
    }

    /// Throws `UnknownConfigKey` when the decoder's object has a key outside `known`.
    public static func rejectUnknownKeys(in decoder: any Decoder, known: [String]) throws {
        let names = Set(known)
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        if let unknown = container.allKeys.map(\.stringValue).first(where: { !names.contains($0) }) {
            throw InvalidInput(
                code: .unknownConfigKey,
                message: "unknown key '\(unknown)'; known keys: \(names.sorted().joined(separator: ", "))"
            )
        }
    }
}
