-- Delivery: carrier references, validity, the dispatch queue, account webhook subscriptions.
ALTER TABLE messages ADD COLUMN carrier_ref TEXT;
ALTER TABLE messages ADD COLUMN expires_at_ms INTEGER;

CREATE INDEX messages_carrier_ref ON messages(carrier_ref) WHERE carrier_ref IS NOT NULL;
-- The dispatcher's queue: pending outbound messages in arrival order.
CREATE INDEX messages_pending ON messages(id) WHERE status = 'PENDING';
-- Undelivered messages by when their validity runs out.
CREATE INDEX messages_undelivered_expiry ON messages(expires_at_ms)
    WHERE status IN ('PENDING', 'SENT', 'REMOTE_QUEUED');

CREATE TABLE webhook_subscriptions (
    id            INTEGER PRIMARY KEY,
    hash          TEXT NOT NULL UNIQUE,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    type          TEXT NOT NULL,
    endpoint      TEXT NOT NULL,
    hmac_secret   TEXT,
    hmac_algo     TEXT NOT NULL DEFAULT 'SHA256',
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX webhook_subscriptions_account ON webhook_subscriptions(account_id, type);

-- Events that share a key (one message's status updates) reach an endpoint in order.
ALTER TABLE webhook_outbox ADD COLUMN ordering_key TEXT;
CREATE INDEX webhook_outbox_ordering ON webhook_outbox(ordering_key, endpoint, id)
    WHERE status = 'PENDING' AND ordering_key IS NOT NULL;
