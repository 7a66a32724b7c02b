#if canImport(Glibc)
import Glibc
#endif

/// A running daemon. Its notify socket is closed once it said `READY=1`: nobody would read the
/// status messages that follow.
struct Daemon: Sendable {
    let process: ChildProcess
    /// Exec to `READY=1`.
    let readyAfter: Duration
    /// The message that carried `READY=1` (with `STATUS=…` when the daemon sends both at once).
    let readyMessage: String

    var pid: Int32 { process.pid }

    /// Starts `executable` with a fresh notify socket and waits for `READY=1`.
    static func start(
        _ executable: String, arguments: [String], notifyPath: String, logPath: String,
        timeout: Duration = .seconds(60)
    ) async throws -> Daemon {
        let notify = try NotifyListener(path: notifyPath)
        do {
            let process = try ChildProcess.spawn(
                executable, arguments: arguments, environment: ["NOTIFY_SOCKET": notifyPath], logPath: logPath)
            do {
                let ready = try await notify.waitFor(
                    line: { $0 == "READY=1" }, describedAs: "READY=1 from \(executable)", timeout: timeout,
                    process: process)
                notify.close()
                return Daemon(process: process, readyAfter: ready.at - process.spawnedAt, readyMessage: ready.text)
            } catch {
                await process.stop(signal: SIGKILL)
                throw error
            }
        } catch {
            notify.close()
            throw error
        }
    }

    /// SIGTERM, then SIGKILL after `timeout`.
    func stop(timeout: Duration = .seconds(15)) async {
        await process.stop(timeout: timeout)
    }
}

/// `gsmsd` on a fresh SQLite file, or on a PostgreSQL database shared by several instances, with
/// its title-token key and fleet secret (the same files for every instance of a run).
struct GSMSDaemon: Sendable {
    static let titleId = "BENCH"

    let daemon: Daemon
    let baseURL: String
    let tokenKey: [UInt8]
    let fleetSecret: String
    let fleetSecretFile: String

    /// Starts instance `instance` (1, 2, …) on `database` (a `postgres://` URL), or the first and
    /// only one on a SQLite file in the workspace when `database` is nil.
    static func start(
        binaries: Binaries, workspace: Workspace, hostTimeoutSeconds: Double, logLevel: String, database: String? = nil,
        instance: Int = 1
    ) async throws -> GSMSDaemon {
        let tokenKey = Array(try workspace.secret("token.key").utf8)
        let fleetSecret = try workspace.secret("agent.token")
        let name = instance == 1 ? "gsmsd" : "gsmsd-\(instance)"
        let daemon = try await Daemon.start(
            binaries.gsmsd,
            arguments: [
                "--listen", "127.0.0.1:0", "--database", database ?? workspace.file("gsms.sqlite"), "--title", titleId,
                "--token-key-file", workspace.file("token.key"), "--agent-token-file", workspace.file("agent.token"),
                "--host-timeout", String(hostTimeoutSeconds), "--log-level", logLevel,
            ],
            notifyPath: workspace.file("\(name).notify"), logPath: workspace.file("\(name).log"))
        // READY=1 comes with STATUS=Listening on HOST:PORT.
        guard
            let status = daemon.readyMessage.split(separator: "\n").first(where: {
                $0.hasPrefix("STATUS=Listening on ")
            }),
            let port = status.split(separator: ":").last.flatMap({ Int($0) })
        else {
            await daemon.stop()
            throw BenchError("gsmsd did not say where it listens: \(daemon.readyMessage)")
        }
        return GSMSDaemon(
            daemon: daemon, baseURL: "http://127.0.0.1:\(port)", tokenKey: tokenKey, fleetSecret: fleetSecret,
            fleetSecretFile: workspace.file("agent.token"))
    }
}
