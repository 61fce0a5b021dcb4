import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL schema, as numbered migrations recorded in `schema_migrations`. They mirror
/// the SQLite schema (HookRelayStore's Schema.swift) in PostgreSQL's types: times are Unix
/// milliseconds in `bigint`, bodies `bytea`, a webhook's lists and maps `jsonb`, flags `boolean`.
///
/// Every instance migrates when it opens the database, in one transaction under a transaction
/// advisory lock: instances started at once wait for the first, then find nothing to do.
enum PostgresSchema {
    /// `pg_advisory_xact_lock`'s key: "hookrelay" in ASCII, the first eight bytes.
    static let migrationLock: Int64 = 0x686F_6F6B_7265_6C61

    static let migrations: [String] = [
        // 1: what SQLite's migrations 1 to 8 built, in one step.
        """
        CREATE SEQUENCE claim_tokens;
        CREATE TABLE messages (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            webhook_id text NOT NULL UNIQUE,
            body bytea NOT NULL,
            created_at bigint NOT NULL
        );
        CREATE INDEX messages_created ON messages (created_at);
        CREATE TABLE deliveries (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            message_id bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            endpoint text NOT NULL,
            status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
            attempts bigint NOT NULL DEFAULT 0,
            next_attempt_at bigint NOT NULL,
            claim bigint NOT NULL DEFAULT 0,
            lease_until bigint,
            lease_owner text,
            last_http_status bigint,
            last_error text,
            last_latency_ms bigint,
            updated_at bigint NOT NULL,
            UNIQUE (message_id, endpoint)
        );
        CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
        CREATE INDEX deliveries_endpoint_due ON deliveries (endpoint, next_attempt_at, id) WHERE status = 'pending';
        CREATE INDEX deliveries_endpoint_status ON deliveries (endpoint, status, id);
        CREATE TABLE attempts (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            delivery_id bigint NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
            started_at bigint NOT NULL,
            http_status bigint,
            latency_ms bigint NOT NULL,
            error text,
            response_body bytea
        );
        CREATE INDEX attempts_delivery ON attempts (delivery_id);
        CREATE TABLE webhooks (
            id text PRIMARY KEY,
            url text NOT NULL,
            description text NOT NULL DEFAULT '',
            events jsonb NOT NULL DEFAULT '[]',
            min_severity text,
            severities jsonb NOT NULL DEFAULT '[]',
            headers jsonb NOT NULL DEFAULT '{}',
            secret text NOT NULL,
            state text NOT NULL DEFAULT 'healthy' CHECK (state IN ('healthy', 'unhealthy', 'disabled')),
            consecutive_failures bigint NOT NULL DEFAULT 0,
            failing_since bigint,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            paused boolean NOT NULL DEFAULT false,
            previous_secret_until bigint,
            template text NOT NULL DEFAULT 'raw',
            template_vars jsonb NOT NULL DEFAULT '{}'
        );
        CREATE INDEX webhooks_paused ON webhooks (id) WHERE paused;
        CREATE TABLE meta (key text PRIMARY KEY, value bigint NOT NULL);
        INSERT INTO meta (key, value) VALUES ('webhooks_version', 0), ('health_version', 0);
        CREATE TABLE discarding (endpoint text PRIMARY KEY);
        """,
        // 2: per-webhook limits across instances: a row per endpoint (made when its first
        // delivery is stored) that a claim under a quota locks (`FOR UPDATE SKIP LOCKED`) before
        // counting the endpoint's leased deliveries, and the endpoints' turns (a claim takes the
        // endpoints served longest ago first); the leased deliveries by endpoint, counted under
        // that lock.
        """
        CREATE TABLE claim_turns (endpoint text PRIMARY KEY, last_turn bigint NOT NULL DEFAULT 0);
        CREATE INDEX claim_turns_order ON claim_turns (last_turn, endpoint);
        CREATE INDEX deliveries_leased ON deliveries (endpoint) WHERE status = 'pending' AND lease_until IS NOT NULL;
        INSERT INTO claim_turns (endpoint) SELECT DISTINCT endpoint FROM deliveries;
        """,
        // 3: teams (HookRelayStore's Access.swift): every webhook belongs to one, those of a
        // database from before teams to `default`; API tokens as digests, each of one team; the
        // audit log, which keeps a team's entries after the team is deleted (no foreign key).
        """
        CREATE TABLE teams (
            id text PRIMARY KEY,
            name text NOT NULL,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL
        );
        INSERT INTO teams (id, name, created_at, updated_at)
            VALUES ('default', 'Default', (extract(epoch FROM now()) * 1000)::bigint, (extract(epoch FROM now()) * 1000)::bigint);
        ALTER TABLE webhooks ADD COLUMN team text NOT NULL DEFAULT 'default' REFERENCES teams(id);
        CREATE INDEX webhooks_team ON webhooks (team);
        CREATE TABLE tokens (
            id text PRIMARY KEY,
            digest text NOT NULL UNIQUE,
            role text NOT NULL CHECK (role IN ('admin', 'team_admin', 'viewer', 'publisher')),
            team text NOT NULL REFERENCES teams(id),
            any_team boolean NOT NULL DEFAULT false,
            description text NOT NULL DEFAULT '',
            created_at bigint NOT NULL,
            last_used_at bigint,
            expires_at bigint
        );
        CREATE INDEX tokens_team ON tokens (team);
        CREATE TABLE audit (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at bigint NOT NULL,
            actor text NOT NULL,
            role text NOT NULL,
            team text NOT NULL,
            object_kind text NOT NULL,
            object_id text NOT NULL,
            action text NOT NULL,
            detail text NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_team ON audit (team, id);
        """,
        // 4: the events of teams other than `default` by key (`TEAM ID`: only their keys have a
        // space), byte-wise whatever the database's collation, to delete a deleted team's events.
        """
        CREATE INDEX messages_team_events ON messages (webhook_id text_pattern_ops) WHERE strpos(webhook_id, ' ') > 0;
        """,
        // 5: the tables pruning deletes from (PostgresStore+Retention.swift) vacuumed after a
        // twentieth of their rows changed instead of a fifth: the space of pruned rows is reused
        // sooner, and claims walk fewer dead index entries.
        """
        ALTER TABLE messages SET (autovacuum_vacuum_scale_factor = 0.05);
        ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.05);
        ALTER TABLE attempts SET (autovacuum_vacuum_scale_factor = 0.05);
        """,
        // 6: SQLite's 10: a webhook's rate limit and ordering, and the rate-limited ones' token buckets.
        """
        ALTER TABLE webhooks ADD COLUMN rate_limit text;
        ALTER TABLE webhooks ADD COLUMN ordering text NOT NULL DEFAULT 'none' CHECK (ordering IN ('none', 'fifo'));
        CREATE TABLE rate_buckets (endpoint text PRIMARY KEY, tokens double precision NOT NULL, at bigint NOT NULL);
        """,
        // 7: the W3C `traceparent` of the ingest span that stored the event (only while traces
        // are exported): the parent of its attempts' spans, on whichever instance sends them;
        // and whether a webhook's requests carry the attempt's `traceparent`.
        """
        ALTER TABLE messages ADD COLUMN traceparent text;
        ALTER TABLE webhooks ADD COLUMN trace_context boolean NOT NULL DEFAULT false;
        """,
        // 8: SQLite's 11 for the web page's chart: finished deliveries counted by webhook, hour
        // (`updated_at` / 3,600,000) and status, kept by triggers in the changing transaction, so
        // that the chart reads a few hundred rows where grouping a day's deliveries of a busy
        // webhook took 0.4–0.6 s. Each hour's count is split over eight slots (the backend's
        // process id modulo 8; each statement upserts its net change into its own slot, and the
        // chart sums them): the completions of several instances rarely wait for one another on
        // an hour's row, and a lock-order deadlock between two of them is retried
        // (Session.retrying). The triggers run once per statement over its transition tables,
        // in key order: a round's completions are one upsert per webhook and status (a trigger
        // per row cost 57 µs a delivery), a claim or an ingest one scan that finds nothing.
        """
        CREATE TABLE delivery_hours (
            endpoint text NOT NULL,
            hour bigint NOT NULL,
            status text NOT NULL,
            slot smallint NOT NULL,
            n bigint NOT NULL,
            PRIMARY KEY (endpoint, hour, status, slot)
        );
        CREATE INDEX delivery_hours_hour ON delivery_hours (hour);
        INSERT INTO delivery_hours (endpoint, hour, status, slot, n)
            SELECT endpoint, updated_at / 3600000, status, 0, count(*) FROM deliveries
            WHERE status IN ('delivered', 'failed') GROUP BY 1, 2, 3;
        \(countTriggers(counts: false))
        """,
        // 9: SQLite's 13: a webhook's client certificate and key (PEM, for receivers that
        // require mutual TLS) and the CA bundle its receiver's certificate must chain to.
        """
        ALTER TABLE webhooks ADD COLUMN client_cert text;
        ALTER TABLE webhooks ADD COLUMN client_key text;
        ALTER TABLE webhooks ADD COLUMN ca text;
        """,
        // 10: SQLite's `delivery_counts` (its schema 5): the deliveries by webhook and status,
        // split over slots as the hourly counts are and kept by the same triggers (their
        // functions replaced): `/metrics` and the web page read a few rows instead of counting a
        // table of millions (a scrape grouped every delivery). Claims, which leave the status
        // as it is, change no count.
        """
        CREATE TABLE delivery_counts (
            endpoint text NOT NULL,
            status text NOT NULL,
            slot smallint NOT NULL,
            n bigint NOT NULL,
            PRIMARY KEY (endpoint, status, slot)
        );
        INSERT INTO delivery_counts (endpoint, status, slot, n) SELECT endpoint, status, 0, count(*) FROM deliveries GROUP BY 1, 2;
        \(countTriggers(counts: true))
        """,
        // 11: a delivery settled without being sent (suppressed as a duplicate, folded into a
        // digest) names the related delivery (SQLite's 14).
        // The wider status check is NOT VALID: every stored row meets it, no scan is needed.
        """
        ALTER TABLE deliveries ADD COLUMN ref bigint;
        ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
        ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
            CHECK (status IN ('pending', 'delivered', 'failed', 'skipped', 'suppressed', 'digested')) NOT VALID;
        """,
        // 12 (issue 19; SQLite's 15): a webhook's de-duplication settings, and the ledger of what
        // each webhook was sent by de-duplication key (HookRelayStore's DedupeLedger.swift).
        """
        ALTER TABLE webhooks ADD COLUMN dedupe text;
        CREATE TABLE dedupe_ledger (
            endpoint text NOT NULL,
            key text NOT NULL,
            delivery bigint NOT NULL,
            sent_at bigint,
            expires_at bigint NOT NULL,
            message_id text,
            PRIMARY KEY (endpoint, key)
        );
        CREATE INDEX dedupe_ledger_expires ON dedupe_ledger (expires_at);
        """,
        // 13 (SQLite's 16, issue 19): a webhook's digest settings, its digests (at most one
        // open per webhook: the partial unique index, and folds of one webhook serialised by a
        // transaction-level advisory lock) and the deliveries folded into each.
        """
        ALTER TABLE webhooks ADD COLUMN digest text;
        CREATE TABLE digests (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            webhook text NOT NULL,
            delivery_id bigint NOT NULL UNIQUE REFERENCES deliveries(id) ON DELETE CASCADE,
            window_start bigint NOT NULL,
            window_end bigint NOT NULL,
            open boolean NOT NULL DEFAULT true
        );
        CREATE UNIQUE INDEX digests_open ON digests (webhook) WHERE open;
        CREATE TABLE digest_members (
            delivery_id bigint PRIMARY KEY REFERENCES deliveries(id) ON DELETE CASCADE,
            digest_id bigint NOT NULL REFERENCES digests(id) ON DELETE CASCADE
        );
        CREATE INDEX digest_members_digest ON digest_members (digest_id);
        """,
        // 14: SQLite's 17: the tickets of webhooks with `tickets: update`, the webhooks' ticket
        // settings, and each delivery's ticket.
        """
        CREATE TABLE tickets (
            endpoint text NOT NULL,
            fingerprint text NOT NULL,
            ticket text,
            creator bigint,
            closing bigint,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL,
            PRIMARY KEY (endpoint, fingerprint)
        );
        ALTER TABLE webhooks ADD COLUMN tickets jsonb;
        ALTER TABLE deliveries ADD COLUMN ticket text;
        ALTER TABLE deliveries ADD COLUMN ticket_action text;
        """,
        // 15: the claim each attempt was the outcome of (PostgreSQL only: a round's completion
        // commits apart from its claim and health, and the dispatcher writes the outcomes of a
        // round that failed after that commit again; ``Completion/Record/ctes``' `fresh` keeps them
        // from being logged and counted twice). Rows logged before have none.
        """
        ALTER TABLE attempts ADD COLUMN claim bigint;
        """,
        // 16: slot grants (``SlotGrants``): each instance's share of a webhook's limit on
        // attempts in flight, written under the webhook's `claim_turns` lock.
        """
        CREATE TABLE claim_grants (
            endpoint text NOT NULL,
            holder text NOT NULL,
            slots integer NOT NULL,
            until bigint NOT NULL,
            PRIMARY KEY (endpoint, holder)
        );
        CREATE INDEX claim_grants_holder ON claim_grants (holder);
        """,
    ]

    /// The triggers on `deliveries` that keep the counts (migration 8 makes them for the hourly
    /// counts; migration 10 replaces their functions to keep `delivery_counts` too).
    private static func countTriggers(counts: Bool) -> String {
        [
            countTrigger("inserted", "INSERT", referencing: "NEW TABLE AS came", changes: "SELECT endpoint, updated_at, status, 1 FROM came", counts: counts),
            countTrigger("updated", "UPDATE", referencing: "OLD TABLE AS gone NEW TABLE AS came", changes: """
                SELECT endpoint, updated_at, status, -1 FROM gone UNION ALL SELECT endpoint, updated_at, status, 1 FROM came
                """, counts: counts),
            countTrigger("deleted", "DELETE", referencing: "OLD TABLE AS gone", changes: "SELECT endpoint, updated_at, status, -1 FROM gone", counts: counts),
        ].joined(separator: "\n")
    }

    /// A trigger on `event` of `deliveries` and its function: the net change of `changes` (rows
    /// of endpoint, updated_at, status, ±1) to the finished deliveries' hourly counts and (with
    /// `counts`) to the deliveries' counts by status, upserted into this connection's slot. With
    /// `counts` the function replaces migration 8's, whose trigger stays.
    private static func countTrigger(_ name: String, _ event: String, referencing: String, changes: String, counts: Bool) -> String {
        let statusCounts = !counts ? "" : """
            INSERT INTO delivery_counts (endpoint, status, slot, n)
            SELECT endpoint, status, pg_backend_pid() % 8, sum(n) FROM (\(changes)) AS c(endpoint, updated_at, status, n)
            GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2
            ON CONFLICT ON CONSTRAINT delivery_counts_pkey DO UPDATE SET n = delivery_counts.n + excluded.n;
            """
        let trigger = counts ? "" : """
            CREATE TRIGGER deliveries_hours_\(name) AFTER \(event) ON deliveries
                REFERENCING \(referencing) FOR EACH STATEMENT EXECUTE FUNCTION delivery_hours_\(name)();
            """
        return """
            CREATE OR REPLACE FUNCTION delivery_hours_\(name)() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                \(statusCounts)
                INSERT INTO delivery_hours (endpoint, hour, status, slot, n)
                SELECT endpoint, updated_at / 3600000, status, pg_backend_pid() % 8, sum(n)
                FROM (\(changes)) AS c(endpoint, updated_at, status, n)
                WHERE status IN ('delivered', 'failed')
                GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3
                ON CONFLICT ON CONSTRAINT delivery_hours_pkey DO UPDATE SET n = delivery_hours.n + excluded.n;
                RETURN NULL;
            END
            $$;
            \(trigger)
            """
    }

    /// A migration's statements, one at a time: split at the ends of lines that end in `;`,
    /// except inside a `$$`-quoted function body.
    static func statements(of migration: String) -> [String] {
        var statements: [String] = [], pending = ""
        for piece in migration.components(separatedBy: ";\n") {
            pending += pending.isEmpty ? piece : ";\n" + piece
            if pending.components(separatedBy: "$$").count % 2 == 1 {
                if !pending.allSatisfy(\.isWhitespace) { statements.append(pending) }
                pending = ""
            }
        }
        if !pending.allSatisfy(\.isWhitespace) { statements.append(pending) }
        return statements
    }

    /// Brings the database to the latest version, once however many instances start together;
    /// refuses a database that a newer hookrelay migrated.
    static func migrate(_ client: PostgresClient, logger: Logger, location: String) async throws {
        try await client.withConnection { connection in try await Session(connection: connection, logger: logger).transaction { session in
            let connection = session.connection
            // A reader's sessions default to read-only transactions; migrating writes.
            try await connection.query("SET TRANSACTION READ WRITE", logger: logger)
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version bigint PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var current = 0
            for try await (version) in try await connection.query(
                "SELECT coalesce(max(version), 0) FROM schema_migrations", logger: logger
            ).decode(Int.self) { current = version }
            guard current <= migrations.count else {
                throw PostgresStoreError(
                    message: "the database's schema is version \(current), newer than this hookrelay understands "
                        + "(\(migrations.count)): a newer hookrelay migrated it; upgrade hookrelay",
                    location: location)
            }
            for version in current..<migrations.count {
                // One statement at a time: the extended protocol takes no lists of statements.
                for statement in statements(of: migrations[version]) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO schema_migrations (version) VALUES (\(version + 1))", logger: logger)
            }
        } }
    }
}
