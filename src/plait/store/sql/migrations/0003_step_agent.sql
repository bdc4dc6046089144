-- plait store schema, version 3: the agent label of each step, for per-agent figures.
ALTER TABLE steps ADD COLUMN agent TEXT;
CREATE INDEX runs_by_created ON runs (created_at);
