// swift-tools-version:6.0
// libFuzzer targets for hookrelay's parsers; see README. Built apart from the main package
// because a fuzz target has no main() and links only with -sanitize=fuzzer.
import PackageDescription

let package = Package(
    name: "hookrelay-fuzz",
    dependencies: [
        .package(name: "hookrelay", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "HookRelayFuzz",
            dependencies: [.product(name: "HookRelayCore", package: "hookrelay")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        // URL parsing and request building: every accepted URL builds a request without trapping.
        .executableTarget(
            name: "HookRelayFuzzRequest",
            dependencies: [
                .product(name: "HookRelayCore", package: "hookrelay"),
                .product(name: "HookRelayDelivery", package: "hookrelay"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
