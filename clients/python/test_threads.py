"""LangGraph's own Python SDK (langgraph-sdk 0.4.14) against stategraph's threads: their
records (create, get, update, search, copy, delete), runs on a thread in several modes,
memory across runs, interrupt then resume, breakpoints, forks, state, history, update_state,
a command's goto of Sends, and the errors (unknown thread, busy thread, bad command)."""

import uuid

import httpx
import pytest
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError
from langgraph_sdk.schema import Command, Send

INPUT = {"topic": "cats"}


def events(stream_parts):
    return [part.event for part in stream_parts]


def refused(call, status):
    """The error body of a request the server refuses with `status` (`runs.wait` raises
    httpx's own error, the other calls the SDK's typed ones)."""
    with pytest.raises(httpx.HTTPStatusError) as error:
        call()
    assert error.value.response.status_code == status, error.value.response.text
    return error.value.response.text


def test_a_thread_is_created_got_updated_and_deleted(client):
    thread = client.threads.create(metadata={"owner": "ann"})
    assert thread["status"] == "idle"
    assert thread["metadata"] == {"owner": "ann"}
    assert thread["values"] is None
    assert uuid.UUID(thread["thread_id"])
    got = client.threads.get(thread["thread_id"])
    assert got == thread
    updated = client.threads.update(thread["thread_id"], metadata={"team": "red"})
    assert updated["metadata"] == {"owner": "ann", "team": "red"}
    assert updated["updated_at"] >= thread["updated_at"]
    client.threads.delete(thread["thread_id"])
    with pytest.raises(NotFoundError):
        client.threads.get(thread["thread_id"])
    with pytest.raises(NotFoundError):
        client.threads.delete(thread["thread_id"])


def test_a_thread_id_given_twice_raises_or_returns_the_first(client):
    thread_id = str(uuid.uuid4())
    first = client.threads.create(thread_id=thread_id, metadata={"n": 1})
    assert first["thread_id"] == thread_id
    with pytest.raises(ConflictError):
        client.threads.create(thread_id=thread_id)
    again = client.threads.create(thread_id=thread_id, metadata={"n": 2}, if_exists="do_nothing")
    assert again["metadata"] == {"n": 1}


def test_search_by_metadata_and_status_newest_first(client):
    tag = str(uuid.uuid4())
    ids = [client.threads.create(metadata={"search": tag, "i": i})["thread_id"] for i in range(3)]
    found = client.threads.search(metadata={"search": tag}, limit=10)
    assert [t["thread_id"] for t in found] == ids[::-1]
    assert [t["thread_id"] for t in client.threads.search(metadata={"search": tag, "i": 1})] == [ids[1]]
    page = client.threads.search(metadata={"search": tag}, limit=1, offset=1)
    assert [t["thread_id"] for t in page] == [ids[1]]
    client.runs.wait(ids[0], "approval", input={"task": "ship"})
    interrupted = client.threads.search(metadata={"search": tag}, status="interrupted")
    assert [t["thread_id"] for t in interrupted] == [ids[0]]
    idle = client.threads.search(metadata={"search": tag}, status="idle")
    assert {t["thread_id"] for t in idle} == set(ids[1:])
    with pytest.raises(UnprocessableEntityError):
        client.threads.search(status="sleeping")
    # By ids, in the orders the SDK names: the one run last changed first by updated_at.
    by_id = client.threads.search(ids=ids, sort_by="thread_id", sort_order="asc")
    assert [t["thread_id"] for t in by_id] == sorted(ids)
    assert [t["thread_id"] for t in client.threads.search(ids=ids[1:], sort_by="created_at", sort_order="asc")] == ids[1:]
    assert client.threads.search(ids=ids, sort_by="updated_at", limit=1)[0]["thread_id"] == ids[0]
    with pytest.raises(UnprocessableEntityError):
        client.threads.search(sort_by="size")


def test_a_run_on_a_thread_streams_and_the_thread_keeps_its_state(client):
    thread = client.threads.create()
    run_ids = []
    stream = list(
        client.runs.stream(
            thread["thread_id"],
            "agent",
            input=INPUT,
            stream_mode=["values", "updates"],
            on_run_created=lambda meta: run_ids.append(meta),
        )
    )
    assert events(stream) == ["metadata", "values", "updates", "values"]
    assert run_ids[0]["thread_id"] == thread["thread_id"]
    assert stream[2].data["call_model"]["joke"].startswith("Why was the cat sitting")
    after = client.threads.get(thread["thread_id"])
    assert after["status"] == "idle"
    assert after["values"]["joke"].startswith("Why was the cat sitting")
    assert after["metadata"]["graph_id"] == "agent"
    state = client.threads.get_state(thread["thread_id"])
    assert state["values"] == after["values"]
    assert state["next"] == []
    assert state["checkpoint"]["thread_id"] == thread["thread_id"]


def test_memory_across_two_runs_step_numbers_continue(client):
    thread_id = client.threads.create()["thread_id"]
    first = list(client.runs.stream(thread_id, "approval", input={"task": "plan"}, stream_mode="checkpoints"))
    client.runs.wait(thread_id, "approval", command={"resume": "no"})
    second = list(client.runs.stream(thread_id, "approval", input={"task": "again"}, stream_mode="checkpoints"))
    first_steps = [part.data["metadata"]["step"] for part in first if part.event == "checkpoints"]
    second_steps = [part.data["metadata"]["step"] for part in second if part.event == "checkpoints"]
    assert first_steps[0] == -1
    assert first_steps == sorted(first_steps)
    assert second_steps[0] > max(first_steps)
    assert second_steps == sorted(second_steps)
    log = client.threads.get_state(thread_id)["values"]["log"]
    # The log is appended to across all three runs.
    assert log == ["planned plan", "answered no", "did not plan", "planned again"]


def test_interrupt_then_resume_with_a_command(client):
    thread_id = client.threads.create()["thread_id"]
    stream = list(
        client.runs.stream(thread_id, "approval", input={"task": "deploy"}, stream_mode=["updates", "values"])
    )
    interrupt_updates = [p.data for p in stream if p.event == "updates" and "__interrupt__" in p.data]
    assert len(interrupt_updates) == 1
    (question,) = interrupt_updates[0]["__interrupt__"]
    assert question["value"] == {"question": "may I deploy?"}
    assert isinstance(question["id"], str) and question["id"]
    values = [p.data for p in stream if p.event == "values"]
    assert values[-1]["__interrupt__"] == [question]
    thread = client.threads.get(thread_id)
    assert thread["status"] == "interrupted"
    assert list(thread["interrupts"].values()) == [[question]]
    state = client.threads.get_state(thread_id)
    assert state["next"] == ["approve"]
    assert state["interrupts"] == [question]
    assert state["tasks"][0]["name"] == "approve"
    assert state["tasks"][0]["interrupts"] == [question]

    resumed = list(
        client.runs.stream(thread_id, "approval", command={"resume": "yes"}, stream_mode="updates")
    )
    updates = [p.data for p in resumed if p.event == "updates"]
    assert updates == [
        {"approve": {"approved": True, "log": ["answered yes"]}},
        {"act": {"log": ["did deploy"]}},
    ]
    thread = client.threads.get(thread_id)
    assert thread["status"] == "idle"
    assert thread["interrupts"] == {}
    assert thread["values"]["approved"] is True


def test_wait_returns_the_state_with_its_interrupt_and_resume_by_id(client):
    thread_id = client.threads.create()["thread_id"]
    state = client.runs.wait(thread_id, "approval", input={"task": "merge"})
    (question,) = state["__interrupt__"]
    assert question["value"] == {"question": "may I merge?"}
    assert state["log"] == ["planned merge"]
    done = client.runs.wait(thread_id, "approval", command={"resume": {question["id"]: "yes"}})
    assert "__interrupt__" not in done
    assert done["log"] == ["planned merge", "answered yes", "did merge"]


def test_debug_mode_carries_checkpoints(client):
    thread_id = client.threads.create()["thread_id"]
    stream = list(client.runs.stream(thread_id, "agent", input=INPUT, stream_mode="debug"))
    kinds = [p.data["type"] for p in stream if p.event == "debug"]
    assert "checkpoint" in kinds and "task" in kinds and "task_result" in kinds
    checkpoint = next(p.data for p in stream if p.event == "debug" and p.data["type"] == "checkpoint")
    assert checkpoint["payload"]["config"]["configurable"]["thread_id"] == thread_id


def test_breakpoints_stop_a_run_and_an_empty_command_goes_on(client):
    thread_id = client.threads.create()["thread_id"]
    stream = list(
        client.runs.stream(
            thread_id, "approval", input={"task": "wait"}, stream_mode="updates", interrupt_before=["approve"]
        )
    )
    assert [p.data for p in stream if p.event == "updates"][-1] == {"__interrupt__": []}
    assert client.threads.get_state(thread_id)["next"] == ["approve"]
    assert client.threads.get(thread_id)["status"] == "interrupted"
    # Going on from the breakpoint reaches the node's own interrupt.
    state = client.runs.wait(thread_id, "approval", input=None)
    assert state["__interrupt__"][0]["value"] == {"question": "may I wait?"}


def test_history_state_at_a_checkpoint_and_a_fork(client):
    thread_id = client.threads.create()["thread_id"]
    client.runs.wait(thread_id, "approval", input={"task": "paint"})
    client.runs.wait(thread_id, "approval", command={"resume": "no"})
    history = client.threads.get_history(thread_id, limit=100)
    steps = [h["metadata"]["step"] for h in history]
    assert steps == sorted(steps, reverse=True)
    assert history[0]["values"]["log"][-1] == "did not paint"
    older = client.threads.get_history(thread_id, limit=2, before=history[1]["checkpoint"])
    assert [h["checkpoint"]["checkpoint_id"] for h in older] == [
        h["checkpoint"]["checkpoint_id"] for h in history[2:4]
    ]
    # Filtered by metadata, as the SDK sends it: the limit counts matching checkpoints.
    loops = client.threads.get_history(thread_id, limit=2, metadata={"source": "loop"})
    assert loops == [h for h in history if h["metadata"]["source"] == "loop"][:2]
    assert client.threads.get_history(thread_id, metadata={"source": "fork"}) == []
    # The checkpoint where the run stopped on its question.
    stopped = next(h for h in history if h["next"] == ["approve"])
    at = client.threads.get_state(thread_id, checkpoint_id=stopped["checkpoint"]["checkpoint_id"])
    assert at["values"] == stopped["values"]
    assert at["interrupts"] == stopped["interrupts"]
    # Forking from there asks again, and a different answer makes a different end.
    forked = client.runs.wait(
        thread_id, "approval", command={"resume": "yes"}, checkpoint_id=stopped["checkpoint"]["checkpoint_id"]
    )
    assert forked["log"][-1] == "did paint"


def test_update_state_as_a_node_and_copy(client):
    thread_id = client.threads.create(metadata={"kind": "original"})["thread_id"]
    client.runs.wait(thread_id, "approval", input={"task": "cook"})
    answer = client.threads.update_state(thread_id, {"approved": True, "log": ["approved by hand"]}, as_node="approve")
    assert answer["checkpoint"]["thread_id"] == thread_id
    state = client.threads.get_state(thread_id)
    assert state["checkpoint"]["checkpoint_id"] == answer["checkpoint"]["checkpoint_id"]
    assert state["metadata"]["source"] == "update"
    assert state["next"] == ["act"]
    assert state["values"]["log"] == ["planned cook", "approved by hand"]
    copy = client.threads.copy(thread_id)
    assert copy["thread_id"] != thread_id
    assert copy["metadata"]["kind"] == "original"
    assert client.threads.get_state(copy["thread_id"])["values"] == state["values"]
    done = client.runs.wait(copy["thread_id"], "approval", input=None)
    assert done["log"][-1] == "did cook"
    # The original is where it was.
    assert client.threads.get_state(thread_id)["next"] == ["act"]
    with pytest.raises(UnprocessableEntityError):
        client.threads.update_state(thread_id, {"approved": "maybe"})
    with pytest.raises(UnprocessableEntityError):
        client.threads.update_state(thread_id, {"log": ["x"]}, as_node="nobody")


def test_update_state_at_an_older_checkpoint_forks_there(client):
    thread_id = client.threads.create()["thread_id"]
    client.runs.wait(thread_id, "approval", input={"task": "bake"})
    stopped = client.threads.get_state(thread_id)
    assert stopped["next"] == ["approve"]
    done = client.runs.wait(thread_id, "approval", command={"resume": "yes"})
    assert done["log"][-1] == "did bake"
    # As the SDK names a checkpoint: the update applies to the state there, and the new
    # checkpoint follows it.
    answer = client.threads.update_state(
        thread_id,
        {"approved": False, "log": ["refused by hand"]},
        as_node="approve",
        checkpoint={"checkpoint_id": stopped["checkpoint"]["checkpoint_id"], "checkpoint_ns": ""},
    )
    fork = client.threads.get_state(thread_id)
    assert fork["checkpoint"]["checkpoint_id"] == answer["checkpoint"]["checkpoint_id"]
    assert fork["parent_checkpoint"]["checkpoint_id"] == stopped["checkpoint"]["checkpoint_id"]
    assert fork["metadata"]["source"] == "update"
    assert fork["values"]["log"] == stopped["values"]["log"] + ["refused by hand"]
    finished = client.runs.wait(thread_id, "approval", input=None)
    assert finished["log"][-1] == "did not bake"
    # The branch after the old checkpoint is still in the history.
    logs = [h["values"]["log"] for h in client.threads.get_history(thread_id, limit=100)]
    assert done["log"] in logs
    # The deprecated `checkpoint_id` argument works too; a wrong or unknown id is refused.
    again = client.threads.update_state(
        thread_id, {"log": ["again"]}, checkpoint_id=stopped["checkpoint"]["checkpoint_id"]
    )
    assert client.threads.get_state(thread_id)["parent_checkpoint"]["checkpoint_id"] == stopped["checkpoint"]["checkpoint_id"]
    assert again["checkpoint"]["checkpoint_id"] != answer["checkpoint"]["checkpoint_id"]
    with pytest.raises(UnprocessableEntityError):
        client.threads.update_state(thread_id, {"log": ["x"]}, checkpoint_id="nope")
    refused(
        lambda: client.threads.update_state(thread_id, {"log": ["x"]}, checkpoint_id=str(uuid.uuid4())),
        404,
    )


def test_if_not_exists_creates_the_thread(client):
    thread_id = str(uuid.uuid4())
    refused(lambda: client.runs.wait(thread_id, "agent", input=INPUT), 404)
    state = client.runs.wait(thread_id, "agent", input=INPUT, if_not_exists="create")
    assert state["topic"] == "cats"
    assert client.threads.get(thread_id)["status"] == "idle"


def test_a_failed_run_leaves_the_thread_in_error(client):
    thread_id = client.threads.create()["thread_id"]
    stream = list(client.runs.stream(thread_id, "failing", input=INPUT))
    assert stream[-1].event == "error"
    assert client.threads.get(thread_id)["status"] == "error"
    assert client.threads.search(status="error", metadata={"graph_id": "failing"})[0]["thread_id"] == thread_id


def test_a_second_run_on_a_busy_thread_is_a_conflict(client):
    thread_id = client.threads.create()["thread_id"]
    held = client.runs.stream(thread_id, "gated", input={}, stream_mode="values")
    # The metadata event comes once the run holds the thread.
    assert next(held).event == "metadata"
    assert client.threads.get(thread_id)["status"] == "busy"
    assert [t["thread_id"] for t in client.threads.search(status="busy")] == [thread_id]
    assert "is busy" in refused(
        lambda: client.runs.wait(thread_id, "gated", input={}, multitask_strategy="reject"), 409
    )
    # Without a strategy, the second run waits its turn, as on LangGraph's server.
    queued = client.runs.create(thread_id, "gated", input={})
    assert queued["multitask_strategy"] == "enqueue"
    assert client.runs.get(thread_id, queued["run_id"])["status"] == "pending"
    with pytest.raises(ConflictError):
        client.threads.delete(thread_id)
    client.runs.wait(None, "release", input={})
    rest = list(held)
    assert rest[-1].data == {"passed": 1}
    # The queued run starts from the first one's state and passes the gate next.
    client.runs.wait(None, "release", input={})
    assert client.runs.join(thread_id, queued["run_id"]) == {"passed": 2}
    assert client.threads.get(thread_id)["status"] == "idle"


def test_errors_unknown_thread_and_bad_commands(client):
    with pytest.raises(NotFoundError):
        client.threads.get(str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        list(client.runs.stream(str(uuid.uuid4()), "agent", input=INPUT))
    with pytest.raises(NotFoundError):
        client.threads.get_state(str(uuid.uuid4()))
    thread_id = client.threads.create()["thread_id"]
    # Nothing to resume on a thread that never ran.
    refused(lambda: client.runs.wait(thread_id, "approval", command={"resume": "yes"}), 422)
    client.runs.wait(thread_id, "approval", input={"task": "x"})
    text = refused(lambda: client.runs.wait(thread_id, "approval", command={"goto": "nowhere"}), 422)
    assert "command.goto: unknown node `nowhere`" in text
    text = refused(lambda: client.runs.wait(thread_id, "approval", command={"update": {"approved": "perhaps"}}), 422)
    assert "command.update.approved" in text
    text = refused(
        lambda: client.runs.wait(thread_id, "approval", input={"task": "y"}, command={"resume": "yes"}), 422
    )
    assert "not both" in text
    with pytest.raises(UnprocessableEntityError) as error:
        list(client.runs.stream(thread_id, "approval", command={"update": 5}, stream_mode="updates"))
    assert "command.update: expected an object" in error.value.response.text


def test_a_command_goto_of_sends_starts_each_node_on_its_input(client):
    thread_id = client.threads.create()["thread_id"]
    assert client.runs.wait(thread_id, "crawl", input={"urls": ["a"]})["log"] == ["planned a", "fetched a"]
    command = Command(
        goto=[Send(node="fetch", input={"url": "sent"}), Send(node="note", input={"urls": ["x"]})]
    )
    state = client.runs.wait(thread_id, "crawl", command=command)
    assert state["log"][:2] == ["planned a", "fetched a"]
    assert sorted(state["log"][2:]) == ["fetched sent", "noted x"]
    # One Send alone, streamed.
    parts = list(
        client.runs.stream(
            thread_id, "crawl", command=Command(goto=Send(node="fetch", input={"url": "one"})), stream_mode="updates"
        )
    )
    assert [part.data for part in parts if part.event == "updates"] == [{"fetch": {"log": ["fetched one"]}}]
    text = refused(
        lambda: client.runs.wait(thread_id, "crawl", command=Command(goto=[Send(node="fetch", input={"url": 5})])),
        422,
    )
    assert "command.goto[0].input: invalid type: integer `5`, expected a string" in text
