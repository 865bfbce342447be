-- Background jobs (CSV exports) and the webhook outbox.
CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY,
    hash           TEXT NOT NULL UNIQUE,
    account_id     INTEGER NOT NULL REFERENCES accounts(id),
    type           TEXT NOT NULL,
    status         TEXT NOT NULL
                   CHECK (status IN ('PENDING', 'RUNNING', 'DONE', 'ERROR', 'CANCELED')),
    -- JSON: what the job works on (for exports, the clamped search criteria).
    params         TEXT NOT NULL,
    -- JSON `Webhook` given with the call, or NULL.
    webhook        TEXT,
    progress_done  INTEGER NOT NULL DEFAULT 0,
    progress_total INTEGER NOT NULL DEFAULT 0,
    result         TEXT,
    error          TEXT,
    file_path      TEXT,
    expires_at_ms  INTEGER,
    created_at_ms  INTEGER NOT NULL,
    updated_at_ms  INTEGER NOT NULL
);
CREATE INDEX jobs_status ON jobs(status, id);
CREATE INDEX jobs_expiring ON jobs(expires_at_ms) WHERE file_path IS NOT NULL;

-- Every webhook event to deliver; rows stay after delivery as the record of what was sent.
CREATE TABLE webhook_outbox (
    id                 INTEGER PRIMARY KEY,
    event_id           TEXT NOT NULL UNIQUE,
    account_id         INTEGER NOT NULL REFERENCES accounts(id),
    endpoint           TEXT NOT NULL,
    hmac_secret        TEXT,
    hmac_algo          TEXT NOT NULL DEFAULT 'SHA256',
    -- The exact bytes POSTed: signatures are computed over them at every attempt.
    body               BLOB NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    created_at_ms      INTEGER NOT NULL,
    finished_at_ms     INTEGER
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt_at_ms) WHERE status = 'PENDING';

CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY,
    outbox_id    INTEGER NOT NULL REFERENCES webhook_outbox(id) ON DELETE CASCADE,
    attempt      INTEGER NOT NULL,
    at_ms        INTEGER NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_outbox ON webhook_attempts(outbox_id, attempt);
