import ArgumentParser
import Foundation
import SessionHostModel
import SessionHostSDK

#if canImport(Glibc)
import Glibc
#endif

/// Printing answers and turning errors into exit codes that scripts can rely on.
enum CommandOutput {
    static let refusedExitCode: Int32 = 1
    static let unreachableExitCode: Int32 = 3

    /// Runs `body`; an agent error is printed to stderr and becomes the documented exit code.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as AgentClientError {
            printError("error: \(error.message) [\(error.code)\(error.status.map { ", HTTP \($0)" } ?? "")]")
            throw ExitCode(error.status == nil ? unreachableExitCode : refusedExitCode)
        }
    }

    /// Prints the raw answer of `method path`, failing like `run` on a non-200 status.
    static func printRaw(_ client: AgentClient, method: String, path: String, body: [UInt8]? = nil) async throws {
        let (status, answer) = try await client.raw(method: method, path: path, body: body)
        if status == 200 {
            print(String(decoding: answer, as: UTF8.self))
            return
        }
        FileHandleStderr.write(String(decoding: answer, as: UTF8.self) + "\n")
        throw ExitCode(refusedExitCode)
    }

    /// Prints a line and flushes it at once, for output that follows events: a pipe or a file
    /// (`events > file`, `| grep`) gets each line as it happens, not when a buffer fills.
    static func printNow(_ text: String) {
        print(text)
        fflush(nil) // every output stream: `stdout` itself is not concurrency-safe to name
    }

    static func printError(_ text: String) {
        FileHandleStderr.write(text + "\n")
    }

    /// Lines of `label value`, aligned.
    static func table(_ rows: [(String, String)]) -> String {
        let width = (rows.map(\.0.count).max() ?? 0) + 2
        return rows.map { label, value in
            label + String(repeating: " ", count: width - label.count) + value
        }.joined(separator: "\n")
    }

    static func describe(_ host: HostInfo) -> String {
        let ports = host.portMappings.map { "\($0.name) \($0.ports.internal) -> \($0.ports.external)" }
        var rows: [(String, String)] = [
            ("Session host", host.sessionHostId),
            ("State", host.state.rawValue),
            ("Title", host.titleId.isEmpty ? "(none)" : host.titleId),
            ("Region", host.region),
            ("Host name", host.hostName),
            ("Ports", ports.isEmpty ? "(none)" : ports.joined(separator: ", ")),
            ("Secure context", host.secureContext.isEmpty ? "(none)" : host.secureContext),
        ]
        if let standing = host.controlPlane { rows.append(("gsmsd", describe(standing))) }
        if let drain = host.drain { rows.append(("Drain", describe(drain))) }
        if let sandbox = host.sandboxId { rows.append(("Sandbox", sandbox)) }
        if let game = host.cloudGameId { rows.append(("Cloud game", game)) }
        if let mode = host.gameModeId { rows.append(("Game mode", mode)) }
        return table(rows)
    }

    /// Whether gsmsd has the host, in words.
    static func describe(_ standing: ControlPlaneStanding) -> String {
        switch standing.status {
        case .local: return "none (local mode: `sessionhostctl allocate` hands over sessions)"
        case .connecting: return "registering …"
        case .registered: return "registered: in the pool"
        case .refused: return "NOT IN THE POOL: refused (\(standing.code ?? "?")): \(standing.message ?? "")"
        case .unreachable: return "NOT IN THE POOL: \(standing.message ?? "gsmsd cannot be reached")"
        }
    }

    /// A drain in words: `until 2026-12-07T19:00:00.000Z (in 59 minutes), asked for on the VM: kernel upgrade`.
    static func describe(_ drain: DrainNotice, now: Date = Date()) -> String {
        var text = "until \(drain.deadline)"
        if let deadline = drain.deadlineDate { text += " (\(describeRemaining(deadline.timeIntervalSince(now))))" }
        text += drain.source == .local ? ", asked for on the VM" : ", asked for by the operator (gsmsd)"
        if let reason = drain.reason { text += ": \(reason)" }
        return text
    }

    /// Seconds from now in words: `in 1 hour`, `in 5 minutes`, `passed`.
    static func describeRemaining(_ seconds: Double) -> String {
        guard seconds > 0 else { return "passed: running sessions are being ended" }
        let whole = Int(seconds.rounded())
        func plural(_ count: Int, _ unit: String) -> String { "\(count) \(unit)\(count == 1 ? "" : "s")" }
        switch whole {
        case ..<60: return "in " + plural(max(whole, 1), "second")
        case ..<3600: return "in " + plural((whole + 30) / 60, "minute")
        case ..<86_400: return "in " + plural((whole + 1800) / 3600, "hour")
        default: return "in " + plural((whole + 43_200) / 86_400, "day")
        }
    }

    static func describe(_ session: SessionInfo) -> String {
        var rows: [(String, String)] = [("State", session.state.rawValue)]
        if let id = session.sessionId {
            rows.append(("Session", id))
            rows.append(("Cookie", session.sessionCookie ?? "(none)"))
            rows.append(("Allocated at", session.allocatedAt ?? "?"))
            if let players = session.players {
                rows.append(("Players", players.isEmpty ? "(none)" : players.map(\.playerId).joined(separator: ", ")))
            }
        } else {
            rows.append(("Session", "(none)"))
        }
        return table(rows)
    }

    static func describe(_ event: HostEvent) -> String {
        var line = "\(event.at)  #\(event.sequence)  \(event.state.rawValue)"
        if let session = event.sessionId { line += "  session \(session)" }
        if let reason = event.reason { line += "  (\(reason))" }
        if let drain = event.drain { line += "  [draining until \(drain.deadline)]" }
        return line
    }
}

/// Writes to standard error without Foundation.
enum FileHandleStderr {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { buffer in
            _ = Glibc.write(2, buffer.baseAddress, buffer.count)
        }
    }
}
