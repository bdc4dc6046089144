-- plait store schema for PostgreSQL, version 2: the work queue of a fleet of workers.
-- One row per step that became ready; a worker claims it with a lease (a token and
-- an expiry in database time) and must still hold the token to commit the outcome.
CREATE SEQUENCE fleet_lease_token;

CREATE TABLE fleet_tasks (
    run_id        TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    step_id       TEXT NOT NULL,
    workflow_id   TEXT NOT NULL,
    agent         TEXT,
    priority      INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL DEFAULT 'queued',   -- queued | claimed | done
    token         BIGINT,
    worker        TEXT,
    lease_until   TIMESTAMPTZ,
    claims        INTEGER NOT NULL DEFAULT 0,
    enqueued_at   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (run_id, step_id)
);
CREATE INDEX fleet_tasks_queued ON fleet_tasks (priority DESC, enqueued_at) WHERE state = 'queued';
CREATE INDEX fleet_tasks_leased ON fleet_tasks (lease_until) WHERE state = 'claimed';

-- Fleet-wide concurrency: `scope` is `workflow:<id>` or `agent:<name>`; `running`
-- counts claimed tasks, changed only in claim and completion transactions.
CREATE TABLE fleet_limits (
    scope    TEXT PRIMARY KEY,
    max_running INTEGER NOT NULL,
    running  INTEGER NOT NULL DEFAULT 0
);
