// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "SessionHost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sessionhostd", targets: ["sessionhostd"]),
        .executable(name: "sessionhostctl", targets: ["sessionhostctl"]),
        .library(name: "SessionHostSDK", targets: ["SessionHostSDK"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // libsystemd, through pkg-config (apt: libsystemd-dev).
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // Swift API over libsystemd: sd_notify, the watchdog, sockets passed by systemd.
        .target(name: "Systemd", dependencies: ["CSystemd"]),
        // Wire models and validation shared by the agent, the SDK, the CLI and the service.
        .target(name: "SessionHostModel"),
        // The session-host agent: lifecycle, durable state, Unix-socket HTTP API, services.
        .target(
            name: "SessionHostAgent",
            dependencies: [
                "Systemd",
                "SessionHostModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Async Swift client of the agent socket, for game servers and tools.
        .target(
            name: "SessionHostSDK",
            dependencies: [
                "SessionHostModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The commands of sessionhostctl.
        .target(
            name: "SessionHostCLI",
            dependencies: [
                "SessionHostSDK",
                "SessionHostModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "sessionhostd", dependencies: ["SessionHostAgent"]),
        .executableTarget(name: "sessionhostctl", dependencies: ["SessionHostCLI"]),
        .testTarget(
            name: "SessionHostTests",
            dependencies: [
                "Systemd",
                "SessionHostModel",
                "SessionHostAgent",
                "SessionHostSDK",
                "SessionHostCLI",
                "sessionhostd",
                "sessionhostctl",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
