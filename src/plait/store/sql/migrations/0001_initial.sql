-- plait store schema, version 1.
-- Runs, their steps' latest state, every attempt, and requests waiting for people.
CREATE TABLE runs (
    run_id          TEXT PRIMARY KEY,
    workflow_id     TEXT NOT NULL,
    workflow_name   TEXT NOT NULL DEFAULT '',
    source          TEXT,
    fingerprint     TEXT NOT NULL DEFAULT '',
    step_fingerprints TEXT NOT NULL DEFAULT '{}',
    inputs          TEXT NOT NULL DEFAULT '{}',
    status          TEXT NOT NULL,
    error           TEXT,
    failed_step     TEXT,
    output          TEXT,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    finished_at     REAL,
    duration_s      REAL,
    owner           TEXT,
    heartbeat_at    REAL,
    control         TEXT,
    recoveries      INTEGER NOT NULL DEFAULT 0,
    parent_run_id   TEXT,
    rerun_from      TEXT
);
CREATE INDEX runs_by_status ON runs (status, created_at);
CREATE INDEX runs_by_workflow ON runs (workflow_id, created_at);

CREATE TABLE steps (
    run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_id     TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    result      TEXT,
    error       TEXT,
    error_type  TEXT,
    inputs      TEXT,
    started_at  REAL,
    finished_at REAL,
    duration_s  REAL,
    reason      TEXT NOT NULL DEFAULT '',
    crashes     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, step_id)
);

CREATE TABLE attempts (
    run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_id     TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    started_at  REAL NOT NULL,
    finished_at REAL,
    outcome     TEXT NOT NULL DEFAULT 'running',
    error       TEXT,
    error_type  TEXT,
    retry_delay REAL,
    PRIMARY KEY (run_id, step_id, attempt)
);

CREATE TABLE human_requests (
    run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_id     TEXT NOT NULL,
    prompt      TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT 'null',
    assignees   TEXT NOT NULL DEFAULT '[]',
    status      TEXT NOT NULL DEFAULT 'pending',
    answer      TEXT,
    reason      TEXT,
    answered_by TEXT,
    created_at  REAL NOT NULL,
    answered_at REAL,
    expires_at  REAL,
    default_outcome TEXT,
    PRIMARY KEY (run_id, step_id)
);
CREATE INDEX human_requests_by_status ON human_requests (status, created_at);
