-- stategraph's durable threads, schema version 5 (Postgres): a checkpoint's chain of deltas
-- is read as a range of the primary key (ids sort by creation, so the chain lies between
-- its base and the checkpoint), and the index on `base_id` goes: every step paid for it in
-- a page written and about 90 bytes kept. The `writes` column is no longer filled (new rows
-- hold 'null'): it copied the tasks' writes, as LangGraph's `metadata.writes` did until
-- LangGraph 0.5 dropped it.
DROP INDEX stategraph_checkpoints_by_base;
