-- One row that /readyz rewrites to prove that the store takes writes.
CREATE TABLE health (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    at_ms    INTEGER NOT NULL
);
