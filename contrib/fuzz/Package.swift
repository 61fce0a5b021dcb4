// swift-tools-version:6.0
// libFuzzer targets for hookrelay's parsers; see README. Built apart from the main package
// because a fuzz target has no main() and links only with -sanitize=fuzzer.
import PackageDescription

let package = Package(
    name: "hookrelay-fuzz",
    dependencies: [.package(name: "hookrelay", path: "../..")],
    targets: [
        .executableTarget(
            name: "HookRelayFuzz",
            dependencies: [.product(name: "HookRelayCore", package: "hookrelay")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    ]
)
