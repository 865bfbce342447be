-- Phone numbers and shortcodes owned by accounts; approved alphanumeric senders;
-- idempotent multi-recipient sends.
CREATE TABLE numbers (
    id            INTEGER PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    sms_enabled   INTEGER NOT NULL DEFAULT 1,
    label         TEXT NOT NULL DEFAULT '',
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
);
CREATE INDEX numbers_account_created ON numbers(account_id, created_at_ms);
CREATE INDEX numbers_account_number ON numbers(account_id, number);

-- When an account has any, its alphanumeric senders are these (and `SMS`) only.
CREATE TABLE approved_senders (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    sender     TEXT NOT NULL,
    PRIMARY KEY (account_id, sender)
) WITHOUT ROWID;

-- The first answer of an sms.send_batch, returned again for a repeated idempotency key.
CREATE TABLE batch_answers (
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    key           TEXT NOT NULL,
    answer        TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
