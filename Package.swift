// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "SessionHost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sessionhostd", targets: ["sessionhostd"]),
        .executable(name: "sessionhostctl", targets: ["sessionhostctl"]),
        .executable(name: "gsmsd", targets: ["gsmsd"]),
        .executable(name: "example-game-server", targets: ["example-game-server"]),
        .executable(name: "sessionhost-bench", targets: ["sessionhost-bench"]),
        .library(name: "SessionHostSDK", targets: ["SessionHostSDK"]),
        .library(name: "SessionHostTitleClient", targets: ["SessionHostTitleClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // gsmsd: HTTP server, embedded SQLite store, title tokens (JWT).
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // gsmsd: the PostgreSQL store, for several instances over one database.
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // sessionhostd -> gsmsd over https (the agent's own small HTTP/1.1 client).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // The title client and the benchmarks -> gsmsd.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // sessionhost-bench: latency histograms.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        // Metrics of gsmsd and the agent, served in the Prometheus text format.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // libsystemd, through pkg-config (apt: libsystemd-dev).
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // glibc's <malloc.h> (mallopt), for gsmsd's allocator settings.
        .systemLibrary(name: "CMalloc"),
        // Metrics of both daemons: swift-metrics recorded into a Prometheus registry of their own.
        .target(
            name: "SessionHostMetrics",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Swift API over libsystemd: sd_notify, the watchdog, sockets passed by systemd.
        .target(name: "Systemd", dependencies: ["CSystemd"]),
        // Log handlers of both daemons: structured journal entries when stderr is the journal, logfmt otherwise.
        .target(
            name: "SessionHostLogging",
            dependencies: [
                "Systemd",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Wire models and validation shared by the agent, the SDK, the CLI and the service.
        .target(name: "SessionHostModel"),
        // The one HTTP/1.1 layer of the agent, the SDK and the tools, on NIOHTTP1: a server (Unix
        // socket, inherited descriptor, TCP), a client (Unix, TCP, TLS through a hook), declarative
        // routes and the JSON error envelope.
        .target(
            name: "SessionHostHTTP",
            dependencies: [
                "SessionHostModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The session-host agent: lifecycle, durable state, Unix-socket HTTP API, services.
        .target(
            name: "SessionHostAgent",
            dependencies: [
                "Systemd",
                "SessionHostModel",
                "SessionHostHTTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "SessionHostLogging",
                "SessionHostMetrics",
            ]
        ),
        // Async Swift client of the agent socket, for game servers and tools.
        .target(
            name: "SessionHostSDK",
            dependencies: [
                "SessionHostModel",
                "SessionHostHTTP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // HeartbeatLoop is a Service too, for games that run a ServiceGroup.
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Async Swift client of gsmsd's public REST API, for title services (matchmakers, lobbies).
        .target(
            name: "SessionHostTitleClient",
            dependencies: [
                "SessionHostModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The commands of sessionhostctl.
        .target(
            name: "SessionHostCLI",
            dependencies: [
                "SessionHostSDK",
                "SessionHostTitleClient",
                "SessionHostModel",
                "TitleTokens",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Title tokens: the JWT inside `Authorization: XBL3.0 x=<hash>;<token>`, minted and verified.
        .target(
            name: "TitleTokens",
            dependencies: [
                "SessionHostModel",
                .product(name: "JWTKit", package: "jwt-kit"),
            ]
        ),
        // The allocation service's inventory: the store protocol, its records and outcomes.
        .target(name: "AllocationStore", dependencies: ["SessionHostModel"]),
        // The embedded store: SQLite through GRDB (WAL, versioned migrations, group commit).
        .target(
            name: "AllocationStoreSQLite",
            dependencies: [
                "AllocationStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The shared store: PostgreSQL through postgres-nio (connection pool, versioned
        // migrations, row locks that skip busy rows), with LISTEN/NOTIFY change notifications.
        .target(
            name: "AllocationStorePostgres",
            dependencies: [
                "AllocationStore",
                "SessionHostModel",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // gsmsd: the public REST API, the agent-facing API, hand-offs, the cluster queue.
        .target(
            name: "AllocationService",
            dependencies: [
                "SessionHostModel",
                "TitleTokens",
                "AllocationStore",
                "AllocationStoreSQLite",
                "AllocationStorePostgres",
                "Systemd",
                "SessionHostLogging",
                "SessionHostMetrics",
                "SessionHostHTTP",
                "CMalloc",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "gsmsd", dependencies: ["AllocationService"]),
        // An example game server built on SessionHostSDK (the demo runs it).
        .executableTarget(
            name: "example-game-server",
            dependencies: [
                "SessionHostSDK",
                "SessionHostModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The agent runs on every game VM: it is linked for a small resident footprint (see
        // docs/performance.md, "Agent memory"). It exports no symbols (Swift executables export
        // all of theirs, which fills the dynamic symbol tables and turns relocations into symbol
        // lookups), and lld packs its relative relocations (DT_RELR, glibc 2.36 or later). The
        // test runner, which links this module, is linked the same way.
        .executableTarget(
            name: "sessionhostd",
            dependencies: ["SessionHostAgent"],
            linkerSettings: [
                .unsafeFlags([
                    "-use-ld=lld",
                    "-Xlinker", "--no-export-dynamic",
                    "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
                ])
            ]
        ),
        .executableTarget(name: "sessionhostctl", dependencies: ["SessionHostCLI"]),
        // The benchmarks: allocations through gsmsd, the agent socket API, agent start-up.
        .target(
            name: "SessionHostBenchmarks",
            dependencies: [
                "SessionHostModel",
                "SessionHostHTTP",
                "SessionHostSDK",
                "TitleTokens",
                "AllocationStorePostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "sessionhost-bench", dependencies: ["SessionHostBenchmarks"]),
        .testTarget(
            name: "SessionHostTests",
            dependencies: [
                "Systemd",
                "SessionHostLogging",
                "SessionHostMetrics",
                "SessionHostModel",
                "SessionHostHTTP",
                "SessionHostAgent",
                "SessionHostSDK",
                "SessionHostCLI",
                "SessionHostTitleClient",
                "TitleTokens",
                "AllocationStore",
                "AllocationStoreSQLite",
                "AllocationStorePostgres",
                "AllocationService",
                "sessionhostd",
                "sessionhostctl",
                "gsmsd",
                "example-game-server",
                "SessionHostBenchmarks",
                "sessionhost-bench",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
