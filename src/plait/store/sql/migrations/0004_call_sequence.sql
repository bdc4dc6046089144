-- plait store schema, version 4: the order of step calls in code-first workflows.
ALTER TABLE steps ADD COLUMN seq INTEGER;
