-- plait store schema, version 2: recovery strategies, the result cache, model usage.
ALTER TABLE steps ADD COLUMN strategy TEXT;
ALTER TABLE steps ADD COLUMN usage TEXT;
ALTER TABLE attempts ADD COLUMN strategy TEXT;
ALTER TABLE runs ADD COLUMN usage TEXT;

CREATE TABLE cache (
    key         TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    step_id     TEXT NOT NULL,
    result      TEXT NOT NULL,
    created_at  REAL NOT NULL,
    expires_at  REAL
);
CREATE INDEX cache_by_step ON cache (workflow_id, step_id);
