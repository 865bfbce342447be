-- Accounts, their API keys and their messages.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_sha256  BLOB NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX api_keys_account ON api_keys(account_id);

-- Times are integer milliseconds since the Unix epoch, UTC; formatted only at the edge.
CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    hash             TEXT NOT NULL UNIQUE,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    direction        TEXT NOT NULL CHECK (direction IN ('OUT', 'IN')),
    sender           TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    text             TEXT NOT NULL,
    options          TEXT,
    encoding         TEXT NOT NULL CHECK (encoding IN ('GSM', 'UNICODE')),
    parts            INTEGER NOT NULL,
    nature           TEXT NOT NULL,
    user_data        TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    status_error     TEXT NOT NULL DEFAULT '',
    cost             TEXT,
    currency         TEXT NOT NULL,
    country          TEXT,
    created_at_ms    INTEGER NOT NULL,
    updated_at_ms    INTEGER NOT NULL,
    sent_at_ms       INTEGER,
    received_at_ms   INTEGER,
    -- JSON list of {old_status, new_status, updated_at_ms}, oldest first: one row per message
    -- keeps a send to a single insert.
    status_history   TEXT NOT NULL
);
CREATE INDEX messages_account_created ON messages(account_id, created_at_ms, id);

-- A repeated sms.send with the same key within the window returns the first hash.
CREATE TABLE idempotency_keys (
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    key           TEXT NOT NULL,
    message_hash  TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
