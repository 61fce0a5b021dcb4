// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "hookrelay",
    products: [
        .executable(name: "hookrelay", targets: ["hookrelay"]),
        .library(name: "HookRelayCore", targets: ["HookRelayCore"]),
        // For contrib/fuzz: URL parsing and request building.
        .library(name: "HookRelayDelivery", targets: ["HookRelayDelivery"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Traces over OTLP/HTTP only: the OTLPGRPC trait (grpc-swift) stays off.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
    ],
    targets: [
        // Pure Swift: events, the JSON scanner, filters, severities, signing, retry schedules.
        // No NIO, HTTP or SQLite.
        .target(
            name: "HookRelayCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // The system libsqlite3 (Debian libsqlite3-dev).
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // SQLite store: schema, migrations, the spool/outbox with leased claims, attempts.
        .target(name: "HookRelayStore", dependencies: ["HookRelayCore", "CSQLite"]),
        // The PostgreSQL store: the same roles as the SQLite one, for several `serve` instances
        // sharing one database (postgres-nio's PostgresClient).
        .target(
            name: "HookRelayPostgres",
            dependencies: [
                "HookRelayCore",
                "HookRelayStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // ConnectionPoolError: the pool's circuit breaker, an outage past a minute.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Payload templates: events rendered through Mustache into chat and ticketing payloads.
        .target(
            name: "HookRelayTemplates",
            dependencies: ["HookRelayCore", .product(name: "Mustache", package: "swift-mustache")]
        ),
        // HTTP sending, the SSRF address guard, the dispatcher.
        .target(
            name: "HookRelayDelivery",
            dependencies: [
                "HookRelayCore",
                "HookRelayStore",
                "HookRelayTemplates",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // TLSUserEvent: a connection is handed out once its TLS handshake is over.
                .product(name: "NIOTLS", package: "swift-nio"),
            ]
        ),
        // The operator layer: webhook and delivery actions, their JSON and text views, and the
        // configuration, shared by the API, the web page and the admin commands (no HTTP server).
        .target(
            name: "HookRelayAdmin",
            dependencies: [
                "HookRelayCore",
                "HookRelayStore",
                "HookRelayDelivery",
                "HookRelayTemplates",
                "HookRelayPostgres",
                .product(name: "TOMLKit", package: "TOMLKit"),
                // The attempt span (a no-op unless `serve` passes a tracer).
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The daemon: Hummingbird routes, API errors, ingest with group commit, ServiceGroup wiring.
        .target(
            name: "HookRelayServer",
            dependencies: [
                "HookRelayCore",
                "HookRelayStore",
                "HookRelayDelivery",
                "HookRelayTemplates",
                "HookRelayAdmin",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
            ]
        ),
        // The thin executable: parses flags and calls the libraries.
        .executableTarget(
            name: "hookrelay",
            dependencies: [
                "HookRelayCore",
                "HookRelayStore",
                "HookRelayDelivery",
                "HookRelayServer",
                "HookRelayAdmin",
                "HookRelayTemplates",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "HookRelayCoreTests", dependencies: ["HookRelayCore"], exclude: ["Fixtures"]),
        .testTarget(name: "HookRelayStoreTests", dependencies: ["HookRelayStore", "HookRelayPostgres"]),
        .testTarget(name: "HookRelayTemplatesTests", dependencies: ["HookRelayTemplates", "HookRelayCore"]),
        .testTarget(
            name: "HookRelayDeliveryTests",
            dependencies: [
                "HookRelayDelivery",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "HookRelayServerTests",
            dependencies: [
                "HookRelayServer",
                "HookRelayAdmin",
                "HookRelayPostgres",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "hookrelay",
                // PostgresTestDatabase: the multi-instance torture's database.
                "HookRelayPostgres",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
