-- stategraph's durable threads, schema version 2 (Postgres): what a resumed run needs to start
-- the tasks due after a checkpoint exactly as they were due.
-- JSON: {"tasks": [{"node": "a", "triggers": ["branch:to:a"]} | {"node": "b", "push": {..}}],
--        "joins": [[true, false], ..]}: each task's triggers or, for a Send, its own input
-- (a whole state); for each edge, in the graph's order, which nodes a fan-in has seen.
-- NULL when nothing is due.
ALTER TABLE stategraph_checkpoints ADD COLUMN frontier TEXT;
