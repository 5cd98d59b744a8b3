-- stategraph's durable threads, schema version 3 (Postgres): a record per thread, what a
-- server lists and searches threads by (LangGraph's `Thread`). `state_values` and
-- `interrupts` copy the state and pending interrupts as of the thread's last run, so that
-- a listing reads no checkpoint.
CREATE TABLE stategraph_threads (
    thread_id    TEXT PRIMARY KEY,
    created_at   TEXT NOT NULL, -- RFC 3339, UTC, microseconds: sorts as text
    updated_at   TEXT NOT NULL,
    metadata     TEXT NOT NULL, -- JSON object
    status       TEXT NOT NULL, -- idle | busy | interrupted | error
    state_values TEXT NOT NULL, -- JSON: the state, or null
    interrupts   TEXT NOT NULL  -- JSON object: task id -> [{"value", "id"}]
);
CREATE INDEX stategraph_threads_by_created ON stategraph_threads (created_at);
CREATE INDEX stategraph_threads_by_status ON stategraph_threads (status, created_at);
