import Foundation
import HookRelayAdmin
import Testing

/// Where `serve` and the admin commands find their database and its password (issue 15).
@Suite struct DatabaseSettingsTests {
    private func temporary(_ name: String, _ text: String, mode: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hookrelay-\(UUID().uuidString)-\(name)").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]))
        return path
    }

    @Test func theFlagWinsThenHOOKRELAY_DBThenTheConfigFile() throws {
        var configuration = ServeConfiguration()
        try configuration.apply(file: try temporary("serve.toml", #"db = "/from/config.db""#, mode: 0o600))
        var fromEnvironment = configuration
        fromEnvironment.setDatabase(flag: nil, environment: ["HOOKRELAY_DB": "postgres://app@db.internal/hookrelay"])
        #expect(fromEnvironment.database == "postgres://app@db.internal/hookrelay")
        var fromFlag = configuration
        fromFlag.setDatabase(flag: "/from/flag.db", environment: ["HOOKRELAY_DB": "postgres://app@db.internal/hookrelay"])
        #expect(fromFlag.database == "/from/flag.db")
        configuration.setDatabase(flag: nil, environment: ["HOOKRELAY_DB": ""])
        #expect(configuration.database == "/from/config.db")
    }

    @Test func thePasswordFileIsReadAndRefusedWhenOthersMayReadIt() throws {
        let secret = try temporary("password", "s3cret-pass\n", mode: 0o600)
        var configuration = ServeConfiguration()
        #expect(try configuration.databasePassword() == nil)
        try configuration.apply(file: try temporary("serve.toml", "password_file = \"\(secret)\"", mode: 0o600))
        #expect(try configuration.databasePassword() == "s3cret-pass")

        configuration.passwordFile = try temporary("open", "s3cret-pass\n", mode: 0o644)
        let exposed = #expect(throws: ServeConfiguration.Problem.self) { try configuration.databasePassword() }
        #expect(exposed?.description.contains("may be read by other users (mode 644): run chmod 600") == true)
        #expect(exposed?.description.contains("s3cret") == false)
        configuration.passwordFile = try temporary("empty", "\n", mode: 0o600)
        let empty = #expect(throws: SecretFile.Unreadable.self) { try configuration.databasePassword() }
        #expect(empty?.description.hasSuffix("is empty") == true)
    }
}
