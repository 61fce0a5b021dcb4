// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "hookrelay",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hookrelay", targets: ["hookrelay"]),
        .library(name: "HookRelayCore", targets: ["HookRelayCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Pure Swift: events, the JSON scanner, filters, severities. No NIO, HTTP or SQLite.
        .target(name: "HookRelayCore"),
        // The thin executable: parses flags and calls the libraries.
        .executableTarget(
            name: "hookrelay",
            dependencies: [
                "HookRelayCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "HookRelayCoreTests", dependencies: ["HookRelayCore"], exclude: ["Fixtures"]),
        .testTarget(name: "EndToEndTests", dependencies: ["hookrelay"]),
    ],
    swiftLanguageModes: [.v6]
)
