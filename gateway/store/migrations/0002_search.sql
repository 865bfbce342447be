-- Indexes for sms.search: every filter and sort leads with the account, ends with the rowid.
CREATE INDEX messages_account_updated ON messages(account_id, updated_at_ms);
CREATE INDEX messages_account_status ON messages(account_id, status, created_at_ms);
CREATE INDEX messages_account_parts ON messages(account_id, parts);
CREATE INDEX messages_account_recipient ON messages(account_id, recipient, created_at_ms);
CREATE INDEX messages_account_sender ON messages(account_id, sender, created_at_ms);
CREATE INDEX messages_account_user_data ON messages(account_id, user_data, created_at_ms)
    WHERE user_data <> '';

-- Messages per account and UTC day, kept by triggers whatever writes the rows: an unfiltered
-- `total` over months adds a few hundred counters instead of counting a million index entries.
CREATE TABLE message_day_counts (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    day        INTEGER NOT NULL,  -- created_at_ms / 86400000
    count      INTEGER NOT NULL,
    PRIMARY KEY (account_id, day)
) WITHOUT ROWID;

INSERT INTO message_day_counts (account_id, day, count)
    SELECT account_id, created_at_ms / 86400000, COUNT(*) FROM messages GROUP BY 1, 2;

CREATE TRIGGER messages_count_insert AFTER INSERT ON messages BEGIN
    INSERT INTO message_day_counts (account_id, day, count)
        VALUES (NEW.account_id, NEW.created_at_ms / 86400000, 1)
        ON CONFLICT (account_id, day) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER messages_count_delete AFTER DELETE ON messages BEGIN
    UPDATE message_day_counts SET count = count - 1
        WHERE account_id = OLD.account_id AND day = OLD.created_at_ms / 86400000;
END;
