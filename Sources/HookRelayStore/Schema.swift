/// The store's schema, as numbered migrations applied in order and recorded in `user_version`.
enum Schema {
    static let migrations: [String] = [
        // 1: messages, deliveries with leased claims, the attempts log.
        """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            webhook_id TEXT NOT NULL UNIQUE,
            body BLOB NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            endpoint TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            claim INTEGER NOT NULL DEFAULT 0,
            lease_until INTEGER,
            lease_owner TEXT,
            last_http_status INTEGER,
            last_error TEXT,
            last_latency_ms INTEGER,
            updated_at INTEGER NOT NULL,
            UNIQUE (message_id, endpoint)
        );
        CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
            started_at INTEGER NOT NULL,
            http_status INTEGER,
            latency_ms INTEGER NOT NULL,
            error TEXT,
            response_body BLOB
        );
        CREATE INDEX attempts_delivery ON attempts (delivery_id);
        """,
        // 2: webhook subscriptions of `serve`, with their persisted health.
        """
        CREATE TABLE webhooks (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            events TEXT NOT NULL DEFAULT '[]',
            min_severity TEXT,
            severities TEXT NOT NULL DEFAULT '[]',
            headers TEXT NOT NULL DEFAULT '{}',
            secret TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'healthy' CHECK (state IN ('healthy', 'unhealthy', 'disabled')),
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            failing_since INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX deliveries_endpoint_status ON deliveries (endpoint, status);
        """,
        // 3: each endpoint's due deliveries in order, for claims under a per-endpoint limit.
        """
        CREATE INDEX deliveries_endpoint_due ON deliveries (endpoint, next_attempt_at, id) WHERE status = 'pending';
        """,
        // 4: the operator surface: paused webhooks, the secret a rotation keeps signing for a
        // while, payload templates, a counter of webhook changes (other processes reload on a change), and events
        // by time (delivery log, recover).
        """
        ALTER TABLE webhooks ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE webhooks ADD COLUMN previous_secret_until INTEGER;
        ALTER TABLE webhooks ADD COLUMN template TEXT NOT NULL DEFAULT 'raw';
        ALTER TABLE webhooks ADD COLUMN template_vars TEXT NOT NULL DEFAULT '{}';
        CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO meta (key, value) VALUES ('webhooks_version', 0);
        CREATE INDEX messages_created ON messages (created_at);
        """,
        // 5: deliveries counted by endpoint and status, kept by triggers in the changing
        // transaction, so `/metrics` and the web page read a few rows instead of counting the
        // table (a count over a million deliveries held a read snapshot for a second, and scrapes
        // in a row kept the WAL from being checkpointed). And deleted webhooks whose pending
        // deliveries are still being discarded, in batches: nothing claims them meanwhile.
        """
        CREATE TABLE delivery_counts (
            endpoint TEXT NOT NULL,
            status TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (endpoint, status)
        ) WITHOUT ROWID;
        INSERT INTO delivery_counts (endpoint, status, n) SELECT endpoint, status, count(*) FROM deliveries GROUP BY endpoint, status;
        CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries BEGIN
            INSERT INTO delivery_counts (endpoint, status, n) VALUES (new.endpoint, new.status, 1)
                ON CONFLICT (endpoint, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries BEGIN
            UPDATE delivery_counts SET n = n - 1 WHERE endpoint = old.endpoint AND status = old.status;
        END;
        CREATE TRIGGER deliveries_count_update AFTER UPDATE OF status, endpoint ON deliveries
        WHEN old.status IS NOT new.status OR old.endpoint IS NOT new.endpoint BEGIN
            UPDATE delivery_counts SET n = n - 1 WHERE endpoint = old.endpoint AND status = old.status;
            INSERT INTO delivery_counts (endpoint, status, n) VALUES (new.endpoint, new.status, 1)
                ON CONFLICT (endpoint, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TABLE discarding (endpoint TEXT PRIMARY KEY) WITHOUT ROWID;
        """,
        // 6: how each URL of a `deliver` spool is to be sent (address rules, headers, signature
        // schemes, timeouts, retries: JSON, no secrets), written by the run that spools, read
        // by the drain.
        """
        CREATE TABLE spool_targets (
            endpoint TEXT PRIMARY KEY,
            settings TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
        // 7: a counter of webhook health transitions, beside the settings' one: a daemon picks up
        // the health an admin command's attempt changed, and health leaves `updated_at` alone.
        """
        INSERT INTO meta (key, value) VALUES ('health_version', 0);
        """,
        // 8: the paused webhooks, read by every claim in its own transaction (a pause is seen by
        // the next claim of every dispatcher, whatever it last heard).
        """
        CREATE INDEX webhooks_paused ON webhooks (id) WHERE paused = 1;
        """,
        // 9: teams (every webhook of an older database in `default`), their API tokens (only
        // the digest), and the audit log of changes (kept when its team is deleted).
        """
        CREATE TABLE teams (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO teams (id, name, created_at, updated_at)
            VALUES ('default', 'Default', unixepoch() * 1000, unixepoch() * 1000);
        ALTER TABLE webhooks ADD COLUMN team TEXT NOT NULL DEFAULT 'default';
        CREATE INDEX webhooks_team ON webhooks (team);
        CREATE TABLE tokens (
            id TEXT PRIMARY KEY,
            digest TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL CHECK (role IN ('admin', 'team_admin', 'viewer', 'publisher')),
            team TEXT NOT NULL REFERENCES teams(id),
            any_team INTEGER NOT NULL DEFAULT 0,
            description TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            last_used_at INTEGER,
            expires_at INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX tokens_team ON tokens (team);
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            role TEXT NOT NULL,
            team TEXT NOT NULL,
            object_kind TEXT NOT NULL,
            object_id TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_team ON audit (team, id);
        """,
        // 10: a webhook's rate limit and ordering (DeliveryRules.swift), and the token buckets
        // of the rate-limited ones.
        """
        ALTER TABLE webhooks ADD COLUMN rate_limit TEXT;
        ALTER TABLE webhooks ADD COLUMN ordering TEXT NOT NULL DEFAULT 'none' CHECK (ordering IN ('none', 'fifo'));
        CREATE TABLE rate_buckets (endpoint TEXT PRIMARY KEY, tokens REAL NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
        """,
        // 11: the web page's chart and activity with a million deliveries stored. Finished
        // deliveries counted by webhook, hour (`updated_at` / 3,600,000) and status, kept by
        // triggers in the changing transaction as `delivery_counts` is: the chart reads at most
        // 48 rows, where grouping a day's deliveries took 2 s at 500,000 a day (a covering index
        // still 0.2 s). Ingest, which turns the triggers off, stores only pending and skipped
        // deliveries, which these triggers leave alone. And the failed deliveries by time, for
        // "failed in the last 24 hours".
        """
        CREATE TABLE delivery_hours (
            endpoint TEXT NOT NULL,
            hour INTEGER NOT NULL,
            status TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (endpoint, hour, status)
        ) WITHOUT ROWID;
        INSERT INTO delivery_hours (endpoint, hour, status, n)
            SELECT endpoint, updated_at / 3600000, status, count(*) FROM deliveries
            WHERE status IN ('delivered', 'failed') GROUP BY 1, 2, 3;
        CREATE TRIGGER deliveries_hours_insert AFTER INSERT ON deliveries WHEN new.status IN ('delivered', 'failed') BEGIN
            INSERT INTO delivery_hours (endpoint, hour, status, n) VALUES (new.endpoint, new.updated_at / 3600000, new.status, 1)
                ON CONFLICT (endpoint, hour, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER deliveries_hours_delete AFTER DELETE ON deliveries WHEN old.status IN ('delivered', 'failed') BEGIN
            UPDATE delivery_hours SET n = n - 1 WHERE endpoint = old.endpoint AND hour = old.updated_at / 3600000 AND status = old.status;
        END;
        CREATE TRIGGER deliveries_hours_update AFTER UPDATE OF status, endpoint, updated_at ON deliveries
        WHEN (old.status IN ('delivered', 'failed') OR new.status IN ('delivered', 'failed'))
            AND (old.status IS NOT new.status OR old.endpoint IS NOT new.endpoint OR old.updated_at / 3600000 IS NOT new.updated_at / 3600000) BEGIN
            UPDATE delivery_hours SET n = n - 1
                WHERE old.status IN ('delivered', 'failed') AND endpoint = old.endpoint AND hour = old.updated_at / 3600000 AND status = old.status;
            INSERT INTO delivery_hours (endpoint, hour, status, n)
                SELECT new.endpoint, new.updated_at / 3600000, new.status, 1 WHERE new.status IN ('delivered', 'failed')
                ON CONFLICT (endpoint, hour, status) DO UPDATE SET n = n + 1;
        END;
        CREATE INDEX deliveries_failed_at ON deliveries (endpoint, updated_at) WHERE status = 'failed';
        """,
        // 12: the W3C `traceparent` of the ingest span that stored the event (only while traces are
        // exported): the parent of its delivery attempts' spans, on whichever instance sends them;
        // and whether a webhook's requests carry the attempt's `traceparent`.
        """
        ALTER TABLE messages ADD COLUMN traceparent TEXT;
        ALTER TABLE webhooks ADD COLUMN trace_context INTEGER NOT NULL DEFAULT 0;
        """,
        // 13: a webhook's client certificate and key (PEM, for receivers that require mutual
        // TLS) and the CA bundle its receiver's certificate must chain to.
        """
        ALTER TABLE webhooks ADD COLUMN client_cert TEXT;
        ALTER TABLE webhooks ADD COLUMN client_key TEXT;
        ALTER TABLE webhooks ADD COLUMN ca TEXT;
        """,
        // 14: a delivery settled without being sent (suppressed as a duplicate, folded into a
        // digest) names the related delivery, and its status is one of two more. SQLite cannot
        // alter a CHECK constraint: the table's stored definition is edited in place (SQLite's
        // documented procedure for changes that leave the stored rows valid), and
        // ``migrate(_:)`` then moves the schema cookie so that every connection reloads it.
        """
        ALTER TABLE deliveries ADD COLUMN ref INTEGER;
        PRAGMA writable_schema = ON;
        UPDATE sqlite_master SET sql = replace(sql, '''skipped'')', '''skipped'', ''suppressed'', ''digested'')')
            WHERE type = 'table' AND name = 'deliveries';
        PRAGMA writable_schema = RESET;
        """,
        // 15 (issue 19): a webhook's de-duplication settings, and the ledger of what each
        // webhook (or `deliver`'s URL) was sent by de-duplication key (DedupeLedger.swift):
        // `sent_at` NULL is a reservation of a delivery being sent, which lapses at `expires_at`;
        // `deliver` records the `message_id` it spooled (its `delivery` is 0).
        """
        ALTER TABLE webhooks ADD COLUMN dedupe TEXT;
        CREATE TABLE dedupe_ledger (
            endpoint TEXT NOT NULL,
            key TEXT NOT NULL,
            delivery INTEGER NOT NULL,
            sent_at INTEGER,
            expires_at INTEGER NOT NULL,
            message_id TEXT,
            PRIMARY KEY (endpoint, key)
        ) WITHOUT ROWID;
        CREATE INDEX dedupe_ledger_expires ON dedupe_ledger (expires_at);
        """,
        // 16 (issue 19; numbered after the groundwork's 14 and dedupe's 15): a webhook's digest
        // settings (JSON, DigestSettings), its digests (each sent as a delivery of its own,
        // `delivery_id`, due at `window_end`; at most one open per webhook) and the deliveries
        // folded into each. The digest's content is its message's body, rewritten by each fold.
        """
        ALTER TABLE webhooks ADD COLUMN digest TEXT;
        CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            webhook TEXT NOT NULL,
            delivery_id INTEGER NOT NULL UNIQUE REFERENCES deliveries(id) ON DELETE CASCADE,
            window_start INTEGER NOT NULL,
            window_end INTEGER NOT NULL,
            open INTEGER NOT NULL DEFAULT 1
        );
        CREATE UNIQUE INDEX digests_open ON digests (webhook) WHERE open = 1;
        CREATE TABLE digest_members (
            delivery_id INTEGER PRIMARY KEY REFERENCES deliveries(id) ON DELETE CASCADE,
            digest_id INTEGER NOT NULL REFERENCES digests(id) ON DELETE CASCADE
        );
        CREATE INDEX digest_members_digest ON digest_members (digest_id);
        """,
        // 17: the tickets of webhooks with `tickets: update` (a row per webhook and finding
        // fingerprint: the ticket, or the delivery creating it), the webhooks' ticket settings
        // (JSON), and on each delivery the ticket it created, commented or closed.
        """
        CREATE TABLE tickets (
            endpoint TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            ticket TEXT,
            creator INTEGER,
            closing INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (endpoint, fingerprint)
        ) WITHOUT ROWID;
        ALTER TABLE webhooks ADD COLUMN tickets TEXT;
        ALTER TABLE deliveries ADD COLUMN ticket TEXT;
        ALTER TABLE deliveries ADD COLUMN ticket_action TEXT;
        """,
    ]

    /// The migrations (by index) that edit a stored table definition: the schema cookie must
    /// move after them.
    static let editsDefinitions: Set = [13]

    /// Brings the database to the latest version; refuses a database from a newer hookrelay.
    static func migrate(_ connection: SQLiteConnection) throws {
        try connection.write {
            let version = try connection.statement("PRAGMA user_version")
            _ = try version.step()
            let current = Int(version.int(0))
            try version.run()
            guard current <= migrations.count else {
                throw SQLiteError(
                    code: 0,
                    message: "schema version \(current) is newer than this hookrelay understands (\(migrations.count)); upgrade hookrelay",
                    context: "in \(connection.path)")
            }
            for index in current..<migrations.count {
                try connection.execute(migrations[index])
                if editsDefinitions.contains(index) {
                    let cookie = try connection.statement("PRAGMA schema_version")
                    _ = try cookie.step()
                    let value = cookie.int(0)
                    try cookie.run()
                    try connection.execute("PRAGMA schema_version = \(value + 1)")
                }
            }
            if current < migrations.count { try connection.execute("PRAGMA user_version = \(migrations.count)") }
        }
    }
}
