-- plait store schema for PostgreSQL, version 1: the SQLite schema (its version 4)
-- with PostgreSQL types. JSON values stay TEXT so they round-trip exactly (-0.0,
-- key order, big integers), as in SQLite.
CREATE TABLE runs (
    run_id            TEXT PRIMARY KEY,
    workflow_id       TEXT NOT NULL,
    workflow_name     TEXT NOT NULL DEFAULT '',
    source            TEXT,
    fingerprint       TEXT NOT NULL DEFAULT '',
    step_fingerprints TEXT NOT NULL DEFAULT '{}',
    inputs            TEXT NOT NULL DEFAULT '{}',
    status            TEXT NOT NULL,
    error             TEXT,
    failed_step       TEXT,
    output            TEXT,
    created_at        DOUBLE PRECISION NOT NULL,
    updated_at        DOUBLE PRECISION NOT NULL,
    finished_at       DOUBLE PRECISION,
    duration_s        DOUBLE PRECISION,
    owner             TEXT,
    heartbeat_at      DOUBLE PRECISION,
    control           TEXT,
    recoveries        INTEGER NOT NULL DEFAULT 0,
    parent_run_id     TEXT,
    rerun_from        TEXT,
    usage             TEXT
);
CREATE INDEX runs_by_status ON runs (status, created_at);
CREATE INDEX runs_by_workflow ON runs (workflow_id, created_at);
CREATE INDEX runs_by_created ON runs (created_at);

CREATE TABLE steps (
    run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_id     TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    result      TEXT,
    error       TEXT,
    error_type  TEXT,
    inputs      TEXT,
    started_at  DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    duration_s  DOUBLE PRECISION,
    reason      TEXT NOT NULL DEFAULT '',
    crashes     INTEGER NOT NULL DEFAULT 0,
    strategy    TEXT,
    usage       TEXT,
    agent       TEXT,
    seq         INTEGER,
    -- Insertion order (SQLite's rowid): steps are listed in the order they first appeared.
    pos         BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (run_id, step_id)
);

CREATE TABLE attempts (
    run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_id     TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    started_at  DOUBLE PRECISION NOT NULL,
    finished_at DOUBLE PRECISION,
    outcome     TEXT NOT NULL DEFAULT 'running',
    error       TEXT,
    error_type  TEXT,
    retry_delay DOUBLE PRECISION,
    strategy    TEXT,
    PRIMARY KEY (run_id, step_id, attempt)
);

CREATE TABLE human_requests (
    run_id          TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_id         TEXT NOT NULL,
    prompt          TEXT NOT NULL DEFAULT '',
    data            TEXT NOT NULL DEFAULT 'null',
    assignees       TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL DEFAULT 'pending',
    answer          TEXT,
    reason          TEXT,
    answered_by     TEXT,
    created_at      DOUBLE PRECISION NOT NULL,
    answered_at     DOUBLE PRECISION,
    expires_at      DOUBLE PRECISION,
    default_outcome TEXT,
    PRIMARY KEY (run_id, step_id)
);
CREATE INDEX human_requests_by_status ON human_requests (status, created_at);

CREATE TABLE cache (
    key         TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    step_id     TEXT NOT NULL,
    result      TEXT NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    expires_at  DOUBLE PRECISION
);
CREATE INDEX cache_by_step ON cache (workflow_id, step_id);
