-- stategraph's durable threads, schema version 4 (Postgres): a record per run, what a server
-- answers `GET /threads/{id}/runs/{run_id}` with (LangGraph's `Run`), so a run started by
-- one process can be listed and its outcome read by another.
CREATE TABLE stategraph_runs (
    run_id             TEXT PRIMARY KEY,
    thread_id          TEXT NOT NULL,
    assistant_id       TEXT NOT NULL,
    created_at         TEXT NOT NULL, -- RFC 3339, UTC, microseconds: sorts as text
    updated_at         TEXT NOT NULL,
    status             TEXT NOT NULL, -- pending | running | success | error | interrupted | timeout
    metadata           TEXT NOT NULL, -- JSON object
    kwargs             TEXT NOT NULL, -- JSON object: what the run was started with
    multitask_strategy TEXT NOT NULL  -- reject | interrupt | rollback | enqueue
);
CREATE INDEX stategraph_runs_by_thread ON stategraph_runs (thread_id, created_at);
