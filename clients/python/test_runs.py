"""LangGraph's own Python SDK (langgraph-sdk 0.4.14) against stategraph's stored runs:
background runs and join, join_stream after a last_event_id, cancel, list and get, the
multitask strategies, and a resumable stateless run joined after a last event id. `gated` holds its thread until a run of `release` opens its gate."""

import httpx
import pytest


def open_gate(client):
    assert client.runs.wait(None, "release", input={}) == {"passed": 0}


def until_status(client, thread_id, run_id, want):
    # Bounded by pytest's own timeout, not by a clock here.
    while client.runs.get(thread_id, run_id)["status"] != want:
        pass


def test_a_background_run_is_created_listed_got_and_joined(client):
    thread_id = client.threads.create()["thread_id"]
    run = client.runs.create(thread_id, "gated", input={}, metadata={"who": "ann"})
    assert run["thread_id"] == thread_id
    assert run["metadata"] == {"who": "ann"}
    until_status(client, thread_id, run["run_id"], "running")
    listed = client.runs.list(thread_id)
    assert [r["run_id"] for r in listed] == [run["run_id"]]
    assert client.runs.list(thread_id, status="success") == []
    open_gate(client)
    assert client.runs.join(thread_id, run["run_id"]) == {"passed": 1}
    assert client.runs.get(thread_id, run["run_id"])["status"] == "success"
    client.runs.delete(thread_id, run["run_id"])
    assert client.runs.list(thread_id) == []


def test_join_stream_after_a_last_event_id_gets_only_later_events(client):
    thread_id = client.threads.create()["thread_id"]
    run = client.runs.create(thread_id, "gated", input={}, stream_mode=["values", "updates"])
    until_status(client, thread_id, run["run_id"], "running")
    open_gate(client)
    client.runs.join(thread_id, run["run_id"])
    every = list(client.runs.join_stream(thread_id, run["run_id"], last_event_id="-1"))
    assert every[0].event == "metadata"
    assert every[-1].data == {"passed": 1}
    # The raw stream's ids, to name the second event.
    with httpx.stream(
        "GET",
        f"{client.http.client.base_url}/threads/{thread_id}/runs/{run['run_id']}/stream",
        headers={"Last-Event-ID": "-1"},
    ) as response:
        ids = [line[4:] for line in response.iter_lines() if line.startswith("id: ")]
    later = list(client.runs.join_stream(thread_id, run["run_id"], last_event_id=ids[1]))
    assert [(p.event, p.data) for p in later] == [(p.event, p.data) for p in every[2:]]
    # A join names the modes it wants of those the run streamed.
    updates = list(
        client.runs.join_stream(thread_id, run["run_id"], last_event_id="-1", stream_mode="updates")
    )
    assert [p.event for p in updates] == ["metadata", "updates"]
    assert updates[1].data == {"wait": {"passed": 1}}


def test_cancel_stops_a_run_and_frees_its_thread(client):
    thread_id = client.threads.create()["thread_id"]
    run = client.runs.create(thread_id, "gated", input={})
    until_status(client, thread_id, run["run_id"], "running")
    client.runs.cancel(thread_id, run["run_id"], wait=True)
    assert client.runs.get(thread_id, run["run_id"])["status"] == "interrupted"
    assert client.threads.get(thread_id)["status"] == "idle"


@pytest.mark.parametrize("strategy", ["interrupt", "rollback"])
def test_a_run_that_interrupts_or_rolls_back_stops_the_running_one(client, strategy):
    thread_id = client.threads.create()["thread_id"]
    first = client.runs.create(thread_id, "gated", input={})
    until_status(client, thread_id, first["run_id"], "running")
    state = client.runs.wait(
        thread_id, "release", input={"passed": 7}, multitask_strategy=strategy
    )
    assert state == {"passed": 7}
    kept = [r["run_id"] for r in client.runs.list(thread_id)]
    if strategy == "interrupt":
        assert client.runs.get(thread_id, first["run_id"])["status"] == "interrupted"
        assert first["run_id"] in kept
    else:
        assert first["run_id"] not in kept
    # The gate opened by `release` lets nobody through any more: give it to a run.
    client.runs.wait(thread_id, "gated", input={})


def test_enqueued_runs_run_in_order(client):
    thread_id = client.threads.create()["thread_id"]
    first = client.runs.create(thread_id, "gated", input={}, multitask_strategy="enqueue")
    until_status(client, thread_id, first["run_id"], "running")
    second = client.runs.create(thread_id, "gated", input={}, multitask_strategy="enqueue")
    assert client.runs.get(thread_id, second["run_id"])["status"] == "pending"
    open_gate(client)
    open_gate(client)
    assert client.runs.join(thread_id, second["run_id"]) == {"passed": 2}
    assert client.runs.get(thread_id, first["run_id"])["status"] == "success"


def test_a_resumable_stateless_run_is_joined_from_the_start_or_after_an_event_id(client):
    stream = client.runs.stream(
        None, "gated", input={}, stream_mode=["values", "updates"], stream_resumable=True
    )
    first, second = next(stream), next(stream)
    assert first.event == "metadata" and first.id and second.id
    run_id = first.data["run_id"]

    # langgraph-sdk 0.4.14's join_stream always builds `/threads/{thread_id}/...`, so the
    # joins go through the SDK's own SSE client to the URL the stream's `Location` header
    # names, which the JS SDK's `joinStream(null, runId)` calls.
    def join(last_event_id):
        return client.http.stream(f"/runs/{run_id}/stream", "GET", headers={"Last-Event-ID": last_event_id})

    from_start, after_first = join("-1"), join(first.id)
    # Both joined while the run waits at the gate: they follow it live from here.
    joined = [next(from_start)], [next(after_first)]
    open_gate(client)
    every = [first, second, *stream]
    assert every[-1].data == {"passed": 1}
    parts = [(part.event, part.data, part.id) for part in every]
    assert [(p.event, p.data, p.id) for p in joined[0] + list(from_start)] == parts
    assert [(p.event, p.data, p.id) for p in joined[1] + list(after_first)] == parts[1:]
    with pytest.raises(httpx.HTTPStatusError) as error:
        list(client.http.stream("/runs/0199d3a2-7c20-7b11-8e2f-aa11bb22cc33/stream", "GET"))
    assert error.value.response.status_code == 404
