/// The settings a `deliver` run gave for each URL it spooled to (schema 6), as JSON text the
/// delivery module reads: a drain sends each URL's deliveries as the spooling run asked.
extension SQLiteSpool {
    /// Records `settings` (JSON by URL) for these URLs, replacing what an earlier run recorded.
    public func saveTargetSettings(_ settings: [String: String], now: Int64) throws {
        guard !settings.isEmpty else { return }
        try connection.write {
            let upsert = try connection.statement("""
                INSERT INTO spool_targets (endpoint, settings, updated_at) VALUES (?1, ?2, ?3)
                ON CONFLICT (endpoint) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at
                WHERE settings IS NOT excluded.settings
                """)
            for (endpoint, json) in settings.sorted(by: { $0.key < $1.key }) {
                upsert.reset()
                try upsert.bind(1, endpoint).bind(2, json).bind(3, now).run()
            }
        }
    }

    /// The recorded settings (JSON) by URL.
    public func targetSettings() throws -> [String: String] {
        let statement = try connection.statement("SELECT endpoint, settings FROM spool_targets")
        var settings: [String: String] = [:]
        while try statement.step() {
            if let endpoint = statement.text(0), let json = statement.text(1) { settings[endpoint] = json }
        }
        try statement.run()
        return settings
    }
}
