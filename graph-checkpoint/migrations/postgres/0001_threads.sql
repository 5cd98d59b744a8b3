-- stategraph's durable threads, schema version 1 (Postgres).
-- JSON columns hold text: read them with psql (cast to jsonb to query into them).

-- One row a checkpoint. `delta` holds the fields the step changed ({"field": {"set": v} |
-- {"append": [..]} | {"add_messages": [..]}}); `snapshot` the whole state, now and then. The
-- state at a checkpoint is the snapshot of its `base_id` (the nearest checkpoint up its
-- parent chain with a snapshot, or the thread's first) with the deltas of the chain from
-- there applied in order; every checkpoint of that chain has the same `base_id`.
CREATE TABLE stategraph_checkpoints (
    thread_id     TEXT    NOT NULL,
    checkpoint_ns TEXT    NOT NULL,
    checkpoint_id TEXT    NOT NULL, -- UUID v7: sorts by creation time
    parent_id     TEXT,
    run_id        TEXT,
    step          BIGINT  NOT NULL,
    source        TEXT    NOT NULL, -- input | loop | update | fork
    created_at    TEXT    NOT NULL, -- RFC 3339, UTC
    next_nodes    TEXT    NOT NULL, -- JSON list of node names
    writes        TEXT    NOT NULL, -- JSON: node name -> its update, or null
    versions      TEXT    NOT NULL, -- JSON: field -> version
    delta         TEXT    NOT NULL, -- JSON object of changes
    snapshot      TEXT,             -- JSON object of every field, or NULL
    base_id       TEXT    NOT NULL, -- where the chain of deltas to this checkpoint starts
    rows_since    BIGINT  NOT NULL, -- deltas since the nearest snapshot
    bytes_since   BIGINT  NOT NULL,
    base_bytes    BIGINT  NOT NULL,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);
CREATE INDEX stategraph_checkpoints_by_base
    ON stategraph_checkpoints (thread_id, checkpoint_ns, base_id);

-- What tasks wrote after a checkpoint, before the next one: kept so that a resumed run does
-- not run them again.
CREATE TABLE stategraph_writes (
    seq           BIGSERIAL PRIMARY KEY,
    thread_id     TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL,
    checkpoint_id TEXT NOT NULL,
    task_id       TEXT NOT NULL,
    channel       TEXT NOT NULL,
    node          TEXT NOT NULL,
    value         TEXT NOT NULL, -- JSON
    UNIQUE (thread_id, checkpoint_ns, checkpoint_id, task_id, channel)
);

-- Which run holds a thread, until when (milliseconds since the Unix epoch).
CREATE TABLE stategraph_thread_locks (
    thread_id  TEXT    PRIMARY KEY,
    owner      TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL
);
