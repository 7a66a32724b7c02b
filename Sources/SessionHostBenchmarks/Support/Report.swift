import Foundation

/// The JSON every scenario prints. Keys are written in snake case (`p50_ms`); durations are in
/// milliseconds with microsecond resolution unless the name says otherwise.
public enum Report {
    /// Rounds to three decimals (microseconds, for milliseconds).
    static func rounded(_ value: Double) -> Double {
        guard value.isFinite else { return 0 }
        return (value * 1000).rounded() / 1000
    }

    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}

/// A latency distribution, from an HdrHistogram.
public struct LatencySummary: Codable, Sendable, Equatable {
    public var count: Int
    public var minMs: Double
    public var p50Ms: Double
    public var p90Ms: Double
    public var p99Ms: Double
    public var p999Ms: Double
    public var maxMs: Double
    public var meanMs: Double
}

/// One target of the issue, and whether this run met it.
public struct TargetCheck: Codable, Sendable, Equatable {
    public var name: String
    public var target: String
    public var measured: String
    public var met: Bool

    init(_ name: String, target: String, measured: String, met: Bool) {
        self.name = name
        self.target = target
        self.measured = measured
        self.met = met
    }
}

/// Answers that were not the expected status, by status and error code.
public struct ErrorCount: Codable, Sendable, Equatable {
    public var status: Int
    public var code: String
    public var count: Int
}

/// Where and how a report was made.
public struct RunContext: Codable, Sendable, Equatable {
    public var startedAt: String
    public var command: [String]
    public var binDirectory: String
    public var onlineCpus: Int
    /// `/proc/loadavg` when the run started: the machine is shared.
    public var loadAverageAtStart: String
    public var kernel: String

    static func current(binDirectory: String) -> RunContext {
        let loadavg = ProcFS.read("/proc/loadavg")?.split(separator: " ").prefix(3).joined(separator: " ") ?? "unknown"
        let kernel =
            ProcFS.read("/proc/sys/kernel/osrelease")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
        return RunContext(
            startedAt: Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false)),
            command: CommandLine.arguments, binDirectory: binDirectory, onlineCpus: ProcFS.onlineCPUs,
            loadAverageAtStart: loadavg, kernel: kernel)
    }
}

/// Latency and rate of one kind of request.
public struct EndpointResult: Codable, Sendable, Equatable {
    /// What was requested, e.g. `GET /v1/host`.
    public var request: String
    public var latency: LatencySummary
    public var requestsPerSecond: Double
    public var errors: Int
}

/// `sessionhost-bench startup`.
public struct StartupReport: Codable, Sendable, Equatable {
    public var context: RunContext
    public var runs: Int
    /// Exec to `READY=1`, each run, in milliseconds.
    public var execToReadyMs: [Double]
    public var execToReady: LatencySummary
    public var targets: [TargetCheck]
}

/// `sessionhost-bench agent`.
public struct AgentReport: Codable, Sendable, Equatable {
    public var context: RunContext
    public var concurrency: Int
    public var rounds: Int
    public var agent: EndpointResult
    public var floor: EndpointResult
    /// agent p50 / floor p50, and the same for p99.
    public var ratioP50: Double
    public var ratioP99: Double
    /// agent requests/s divided by floor requests/s.
    public var throughputRatio: Double
    public var memory: MemoryReport
    public var idle: IdleCPUReport
    public var targets: [TargetCheck]
}

/// Resident memory of a process, and where it goes (from `/proc/PID/smaps`).
public struct MemoryReport: Codable, Sendable, Equatable {
    public var vmRssMib: Double
    public var vmHwmMib: Double
    /// The anonymous part of VmRSS (heap, stacks, written data: the process's own memory) and
    /// the file-backed part (code and read-only data mapped from the executable and libraries,
    /// clean and shared with the page cache).
    public var rssAnonMib: Double
    public var rssFileMib: Double
    /// Resident KiB by kind: the executable, the Swift runtime and Foundation, other shared
    /// libraries, the heap and anonymous memory, stacks.
    public var rssKibByKind: [MappingUsage]
    /// The largest mappings by resident size.
    public var largestMappings: [MappingUsage]
}

public struct MappingUsage: Codable, Sendable, Equatable {
    public var name: String
    public var rssKib: Int
    /// Resident pages mapped by no other process (smaps `Private_Clean` + `Private_Dirty`):
    /// clean code pages of an executable only this process runs count too.
    public var privateKib: Int
}

/// CPU a process used while nobody talked to it.
public struct IdleCPUReport: Codable, Sendable, Equatable {
    public var seconds: Double
    /// utime + stime from `/proc/PID/stat`, in clock ticks (`ticks_per_second` a second).
    public var cpuTicks: Int
    public var ticksPerSecond: Int
    public var percentOfCoreFromStat: Double
    /// Nanoseconds on a CPU from the process's CPU-time clock (`clock_getcpuclockid`, every
    /// thread): finer than the ticks.
    public var cpuNanoseconds: Int64
    public var percentOfCoreFromCpuClock: Double
}

/// `sessionhost-bench allocations`.
public struct AllocationsReport: Codable, Sendable, Equatable {
    public var context: RunContext
    public var hosts: Int
    public var realAgents: Int
    public var clients: Int
    public var requests: Int
    public var warmupRequests: Int
    public var sessionMs: Int
    public var hostTimeoutSeconds: Double
    public var gsmsdLogLevel: String
    public var registration: RegistrationResult
    public var allocation: EndpointResult
    /// Successful allocations over the load phase's wall time.
    public var allocationsPerSecond: Double
    public var loadSeconds: Double
    public var errors: [ErrorCount]
    /// The trivial request, sent by the same clients between their allocations.
    public var floor: EndpointResult
    /// allocation p50 / floor p50, and the same for p99.
    public var ratioP50: Double
    public var ratioP99: Double
    /// Hand-offs to the real agents during the load phase, one at a time.
    public var handoffUnderLoad: HandoffResult
    /// Hand-offs to the real agents after the load phase, with the simulated agents stopped.
    public var handoffIdle: HandoffResult
    public var simulatedAgents: SimulatedAgentsResult
    public var gsmsd: ServiceUsage
    /// VmRSS of each real sessionhostd after the run, in MiB.
    public var realAgentRssMib: [Double]
    public var durability: String
    public var targets: [TargetCheck]
    /// `sqlite` or `postgres` (absent in reports from before PostgreSQL).
    public var database: String?
    /// gsmsd processes sharing the load (CPU is their sum, RSS their largest).
    public var gsmsdInstances: Int?
    /// CPU of every `postgres` process on the machine during the load (PostgreSQL runs only).
    public var postgresCpuSecondsDuringLoad: Double?
}

public struct RegistrationResult: Codable, Sendable, Equatable {
    public var hosts: Int
    public var seconds: Double
    public var perSecond: Double
}

/// Allocations onto the real sessionhostd agents.
public struct HandoffResult: Codable, Sendable, Equatable {
    /// Request sent until the game's waiting `GET /v1/session?wait=` returned the session.
    public var toGame: LatencySummary
    /// Request sent until the title's `200` arrived (after the agent's acknowledgement).
    public var titleResponse: LatencySummary
    /// Answers `503 NoStandingByHost` while the real agents were between sessions (retried).
    public var retriedNoHost: Int
    public var errors: Int
}

public struct SimulatedAgentsResult: Codable, Sendable, Equatable {
    /// Hand-off, ack, end and StandingBy heartbeat, completed.
    public var cycles: Int
    public var heartbeats: Int
    /// Periodic heartbeats sent per second, and what `hosts / interval` asks for; the simulated
    /// fleet falls behind when gsmsd answers slower than that.
    public var heartbeatsPerSecond: Double
    public var heartbeatsPerSecondAsked: Double
    public var errors: Int
    public var lastError: String?
}

/// What gsmsd used during the load phase.
public struct ServiceUsage: Codable, Sendable, Equatable {
    public var cpuSecondsDuringLoad: Double
    public var cpuMicrosecondsPerAllocation: Double
    /// Of the benchmark process itself (clients and simulated agents), for comparison.
    public var benchmarkCpuSecondsDuringLoad: Double
    public var vmRssMibAfterLoad: Double
}

/// `sessionhost-bench all`.
public struct AllReport: Codable, Sendable, Equatable {
    public var startup: StartupReport
    public var agent: AgentReport
    public var allocations: AllocationsReport
}
